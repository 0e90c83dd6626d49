using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// The automatic acknowledgment of new mail speaks the client's language: each client can word it (with the canned
/// replies' placeholders) or turn it off, through the API as its own admin or the provider's.
/// </summary>
public sealed class AcknowledgmentTests(ProDeskApp app) : PostgresTest(app)
{
    private const string Route = "/api/v1/tenants/acme/channels/email/acknowledgment";

    private async Task<HttpClient> AsAsync(string email) => App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>Posts a new mail to acme; the item's id.</summary>
    private async Task<Guid> MailAsync(string subject = "Leaking tap", string from = "Marie Curie <marie@example.fr>")
    {
        var mail = $"From: {from}\r\nTo: support@acme.test\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@mail.example.fr>\r\n\r\nThe kitchen tap drips.\r\n";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(mail));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/email/acme/inbound") { Content = content };
        request.Headers.Add(EmailInboundApi.KeyHeader, "demo-acme-inbound-key-0123456789");
        var response = await App.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await JsonAsync(response)).GetProperty("workItemId").GetGuid();
    }

    private Task<List<string>> AcknowledgmentsAsync(Guid itemId) =>
        App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().Where(o => o.WorkItemId == itemId && o.Automatic).Select(o => o.Body).ToListAsync());

    [Fact]
    public async Task The_demo_client_acknowledges_in_french_naming_the_sender_the_subject_and_the_reference()
    {
        var itemId = await MailAsync("Fuite sous l'évier");

        var body = Assert.Single(await AcknowledgmentsAsync(itemId));
        Assert.StartsWith("Bonjour Marie Curie,\n\nNous avons bien reçu votre message « Fuite sous l'évier »", body, StringComparison.Ordinal);
        Assert.Contains($"Référence : {itemId}", body, StringComparison.Ordinal);
        Assert.EndsWith("Le service client Acme Plomberie SAS", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_admin_words_the_acknowledgment_and_can_go_back_to_the_standard_text()
    {
        var admin = await AsAsync("admin@acme.test");
        var set = await admin.PutAsJsonAsync(Route, new { enabled = true, text = "Hello {{ contact.name }},\n\nyour case {{item.reference}} is with {{tenant.name}}." });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var view = await JsonAsync(set);
        Assert.False(view.GetProperty("standard").GetBoolean());
        Assert.DoesNotContain("agent.name", view.GetProperty("placeholders").EnumerateArray().Select(p => p.GetString()));

        var itemId = await MailAsync();
        Assert.Equal($"Hello Marie Curie,\n\nyour case {itemId} is with Acme Plomberie SAS.", Assert.Single(await AcknowledgmentsAsync(itemId)));

        // A sender who gave no name: the placeholder is left empty, never filled with something else.
        var nameless = await MailAsync(from: "bob@example.fr");
        Assert.StartsWith("Hello ,", Assert.Single(await AcknowledgmentsAsync(nameless)), StringComparison.Ordinal);

        var standard = await admin.PutAsJsonAsync(Route, new { enabled = true, text = (string?)null });
        Assert.Equal(HttpStatusCode.OK, standard.StatusCode);
        Assert.True((await JsonAsync(standard)).GetProperty("standard").GetBoolean());
        var later = await MailAsync(from: "Jean <jean@example.fr>");
        Assert.Equal($"Thank you for your message. We have received it and will answer as soon as we can.\n\nReference: {later}\n\nTo add anything, reply to this mail.",
            Assert.Single(await AcknowledgmentsAsync(later)));

        var read = await JsonAsync(await admin.GetAsync(Route));
        Assert.True(read.GetProperty("enabled").GetBoolean());
        Assert.StartsWith("Thank you for your message.", read.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, await App.InTenantAsync("acme", db => db.AuditEvents.CountAsync(a => a.Action == "acknowledgment-changed")));
    }

    [Fact]
    public async Task Turned_off_no_acknowledgment_goes_out_and_the_mail_is_still_an_item()
    {
        var off = await (await AsAsync("admin@prodesk.test")).PutAsJsonAsync(Route, new { enabled = false });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.False((await JsonAsync(off)).GetProperty("enabled").GetBoolean());

        var itemId = await MailAsync();
        Assert.Empty(await AcknowledgmentsAsync(itemId));
        Assert.True(await App.InTenantAsync("acme", db => db.WorkItems.AnyAsync(w => w.Id == itemId)));
    }

    [Theory]
    [InlineData("""{"enabled":true,"text":"Hello {{agent.name}}"}""", "text")]
    [InlineData("""{"enabled":true,"text":"Hello {{customer.name}}"}""", "text")]
    [InlineData("""{"enabled":true,"text":"   "}""", "text")]
    [InlineData("""{"text":"Hello"}""", "enabled")]
    [InlineData("""{"enabled":true,"txt":"Hello"}""", "txt")]
    public async Task A_wrong_setting_is_refused_naming_the_field_and_changes_nothing(string json, string field)
    {
        var response = await (await AsAsync("admin@acme.test")).PutAsync(Route, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await JsonAsync(response)).GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());

        var itemId = await MailAsync();
        Assert.StartsWith("Bonjour Marie Curie,", Assert.Single(await AcknowledgmentsAsync(itemId)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agents_viewers_integrations_and_another_clients_admin_get_404()
    {
        var callers = new[] { await AsAsync("agent1@prodesk.test"), await AsAsync("viewer@acme.test"), await App.IntegrationClientAsync("acme"), await AsAsync("admin@northwind.test") };
        foreach (var caller in callers)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await caller.GetAsync(Route)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await caller.PutAsJsonAsync(Route, new { enabled = false })).StatusCode);
        }

        var itemId = await MailAsync();
        Assert.Single(await AcknowledgmentsAsync(itemId));
    }
}
