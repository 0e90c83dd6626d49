using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.TenantKeys;

/// <summary>
/// A tenant's machine secrets can be rotated (probe round 20): the integration client's secret, the inbound mail key,
/// the widget key and the SMS gateway's token, by the provider admin or the tenant's own client admin, through the API
/// or the command line; the old value stops working, and the audit log says who did it without the value.
/// </summary>
public sealed class TenantKeysTests(ProDeskApp app) : PostgresTest(app)
{
    private const string AcmeInboundKey = "demo-acme-inbound-key-0123456789";
    private const string AcmeWidgetKey = "demo-acme-widget-key";

    private Dictionary<string, string?> OnPostgres() => new()
    {
        ["Database__Provider"] = "Postgres",
        ["ConnectionStrings__ProDesk"] = App.Database.AppConnectionString,
    };

    private async Task<HttpClient> AsAsync(string email) => App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);

    private async Task<HttpStatusCode> TokenStatusAsync(string clientId, string secret) =>
        (await App.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = secret, ["scope"] = "api",
        }))).StatusCode;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private async Task<HttpStatusCode> MailAsync(string key)
    {
        var mail = $"From: Marie Curie <marie@example.fr>\r\nTo: support@acme.test\r\nSubject: Leaking tap\r\nMessage-ID: <{Guid.NewGuid():N}@mail.example.fr>\r\n\r\nThe kitchen tap drips.\r\n";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(mail));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/email/acme/inbound") { Content = content };
        request.Headers.Add("X-ProDesk-Key", key);
        return (await App.CreateClient().SendAsync(request)).StatusCode;
    }

    // Each submission its own words: the same words again from the same person are one conversation (200, not 201).
    private async Task<HttpStatusCode> WebFormAsync(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/webform/acme")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["key"] = key, ["name"] = "Marie Curie", ["email"] = "marie@example.fr", ["subject"] = "Boiler", ["message"] = $"The boiler makes a noise ({Guid.NewGuid():N}).", ["website"] = "",
            }),
        };
        request.Headers.Add("Origin", "https://www.acme.example");
        request.Headers.Accept.ParseAdd("application/json");
        return (await App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task Rotating_a_clients_secret_refuses_the_old_secret_at_once_and_ends_the_tokens_it_got()
    {
        var oldSecret = Browserless.DemoSecret("acme");
        var integration = await App.IntegrationClientAsync("acme");
        Assert.Equal(HttpStatusCode.OK, (await integration.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);

        var rotate = await (await AsAsync("admin@prodesk.test")).PostAsync("/api/v1/tenants/acme/clients/acme-integration/secret", null);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        Assert.Equal("no-store", rotate.Headers.CacheControl?.ToString());
        var rotated = await JsonAsync(rotate);
        Assert.Equal("acme-integration", rotated.GetProperty("clientId").GetString());
        var newSecret = rotated.GetProperty("clientSecret").GetString()!;
        Assert.True(newSecret.Length >= 40 && newSecret != oldSecret, newSecret);
        Assert.True(rotated.GetProperty("accessTokensRevoked").GetInt64() >= 1);

        Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync("acme-integration", oldSecret));
        var refused = await integration.GetAsync("/api/v1/tenants/acme/work-items");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        var renewed = App.CreateClient().WithBearer((await App.ClientCredentialsAsync("acme-integration", newSecret)).GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await renewed.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
        // Another tenant's integration is untouched.
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync("northwind-integration", Browserless.DemoSecret("northwind")));
    }

    [Fact]
    public async Task A_client_admin_manages_its_own_tenants_client_and_nobody_else_can()
    {
        var acmeAdmin = await AsAsync("admin@acme.test");
        var clients = await acmeAdmin.JsonAsync("/api/v1/tenants/acme/clients");
        Assert.Equal(["acme-integration"], clients.EnumerateArray().Select(c => c.GetProperty("clientId").GetString()));

        // Another tenant, or another tenant's client named under its own tenant: as unknown as no client at all.
        Assert.Equal(HttpStatusCode.NotFound, (await acmeAdmin.PostAsync("/api/v1/tenants/northwind/clients/northwind-integration/secret", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acmeAdmin.PostAsync("/api/v1/tenants/acme/clients/northwind-integration/secret", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acmeAdmin.PostAsync("/api/v1/tenants/acme/clients/prodesk-cli/secret", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acmeAdmin.PostAsync("/api/v1/tenants/northwind/channels/inbound-key", null)).StatusCode);

        // Roles that may see acme but not manage its secrets, the integration itself included (a leaked secret must not lock its owner out).
        foreach (var caller in new[] { await AsAsync("viewer@acme.test"), await AsAsync("agent1@prodesk.test"), await AsAsync("supervisor@prodesk.test"), await App.IntegrationClientAsync("acme") })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await caller.GetAsync("/api/v1/tenants/acme/clients")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await caller.PostAsync("/api/v1/tenants/acme/clients/acme-integration/secret", null)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await caller.PostAsync("/api/v1/tenants/acme/channels/widget-key", null)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync("acme-integration", Browserless.DemoSecret("acme")));
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync("northwind-integration", Browserless.DemoSecret("northwind")));
        Assert.Equal(HttpStatusCode.Created, await MailAsync(AcmeInboundKey));

        var rotate = await acmeAdmin.PostAsync("/api/v1/tenants/acme/clients/acme-integration/secret", null);
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync("acme-integration", (await JsonAsync(rotate)).GetProperty("clientSecret").GetString()!));
    }

    [Fact]
    public async Task Rotating_the_inbound_and_widget_keys_refuses_the_old_ones_and_takes_the_new()
    {
        var admin = await AsAsync("admin@acme.test");
        Assert.Equal(HttpStatusCode.Created, await MailAsync(AcmeInboundKey));
        Assert.Equal(HttpStatusCode.Created, await WebFormAsync(AcmeWidgetKey));

        var inbound = await admin.PostAsync("/api/v1/tenants/acme/channels/inbound-key", null);
        Assert.Equal(HttpStatusCode.OK, inbound.StatusCode);
        Assert.Equal("no-store", inbound.Headers.CacheControl?.ToString());
        var inboundKey = (await JsonAsync(inbound)).GetProperty("inboundKey").GetString()!;
        Assert.Equal(HttpStatusCode.Unauthorized, await MailAsync(AcmeInboundKey));
        Assert.Equal(HttpStatusCode.Created, await MailAsync(inboundKey));

        var widget = await admin.PostAsync("/api/v1/tenants/acme/channels/widget-key", null);
        Assert.Equal(HttpStatusCode.OK, widget.StatusCode);
        var widgetKey = (await JsonAsync(widget)).GetProperty("widgetKey").GetString()!;
        Assert.Equal(HttpStatusCode.Forbidden, await WebFormAsync(AcmeWidgetKey));
        Assert.Equal(HttpStatusCode.Created, await WebFormAsync(widgetKey));
        // The inbound key is only the widget's neighbour: the new inbound key still works after the widget's rotation.
        Assert.Equal(HttpStatusCode.Created, await MailAsync(inboundKey));
    }

    [Fact]
    public async Task The_sms_gateways_token_is_set_as_one_word_and_a_bad_one_names_the_field()
    {
        var admin = await AsAsync("admin@prodesk.test");
        foreach (var bad in new object[] { new { }, new { authToken = "" }, new { authToken = "two words" }, new { authToken = new string('a', 201) } })
        {
            var refused = await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/sms-auth-token", bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True((await JsonAsync(refused)).GetProperty("errors").TryGetProperty("authToken", out _));
        }

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/sms-auth-token", new { authToken = "fresh-gateway-token-42" })).StatusCode);
        Assert.Equal("fresh-gateway-token-42", await App.InTenantAsync("acme", db => db.ChannelSettings.Select(c => c.SmsAuthToken).SingleAsync()));
    }

    [Fact]
    public async Task Every_rotation_is_audited_with_who_and_what_but_never_the_secret()
    {
        var admin = await AsAsync("admin@acme.test");
        var secret = (await JsonAsync(await admin.PostAsync("/api/v1/tenants/acme/clients/acme-integration/secret", null))).GetProperty("clientSecret").GetString()!;
        var inbound = (await JsonAsync(await admin.PostAsync("/api/v1/tenants/acme/channels/inbound-key", null))).GetProperty("inboundKey").GetString()!;
        var widget = (await JsonAsync(await admin.PostAsync("/api/v1/tenants/acme/channels/widget-key", null))).GetProperty("widgetKey").GetString()!;
        await admin.PutAsJsonAsync("/api/v1/tenants/acme/channels/sms-auth-token", new { authToken = "fresh-gateway-token-42" });

        await using var scope = App.Services.CreateAsyncScope();
        var events = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().AuditEvents.AsNoTracking()
            .Where(e => e.Action == "client-secret-rotated" || e.Action == "channel-key-rotated").OrderBy(e => e.Id).ToListAsync();
        var acme = await App.TenantAsync("acme");
        Assert.Equal(
            [("client-secret-rotated", "acme-integration"), ("channel-key-rotated", "inbound"), ("channel-key-rotated", "widget"), ("channel-key-rotated", "sms-auth-token")],
            events.Select(e => (e.Action, e.Target!)));
        Assert.All(events, e => Assert.Equal(("admin@acme.test", acme.Id), (e.ActorName!, e.TenantId!.Value)));
        var written = string.Join('\n', events.Select(e => $"{e.Target} {e.Details}"));
        Assert.All(new[] { secret, inbound, widget, "fresh-gateway-token-42" }, value => Assert.DoesNotContain(value, written, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Operators_rotate_from_the_command_line_which_prints_only_the_new_secret()
    {
        var client = await CliProcess.RunAsync(OnPostgres(), "clients", "rotate", "--tenant", "acme");
        Assert.True(client.ExitCode == 0, client.StandardError);
        var secret = Assert.Single(client.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync("acme-integration", secret));
        Assert.Equal(HttpStatusCode.Unauthorized, await TokenStatusAsync("acme-integration", Browserless.DemoSecret("acme")));

        var inbound = await CliProcess.RunAsync(OnPostgres(), "channels", "rotate", "--tenant", "acme", "--key", "inbound");
        Assert.True(inbound.ExitCode == 0, inbound.StandardError);
        // Another process changed it: this node's copy of the settings counts for at most its 30 s, so ask the database.
        var key = Assert.Single(inbound.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(ProDesk.Web.Channels.InboundKeys.Hash(key), await App.InTenantAsync("acme", db => db.ChannelSettings.Select(c => c.InboundKeyHash).SingleAsync()));

        var wrongKey = await CliProcess.RunAsync(OnPostgres(), "channels", "rotate", "--tenant", "acme", "--key", "sms");
        Assert.Equal(2, wrongKey.ExitCode);
        Assert.StartsWith("prodesk: channels rotate: --key must be inbound or widget", wrongKey.StandardError.Trim(), StringComparison.Ordinal);
        var unknownClient = await CliProcess.RunAsync(OnPostgres(), "clients", "rotate", "--tenant", "acme", "--client", "northwind-integration");
        Assert.Equal(1, unknownClient.ExitCode);
        Assert.Equal("", unknownClient.StandardOutput);
        Assert.Equal(HttpStatusCode.OK, await TokenStatusAsync("northwind-integration", Browserless.DemoSecret("northwind")));
    }
}
