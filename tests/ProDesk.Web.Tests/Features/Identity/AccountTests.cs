using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Identity;

/// <summary>What a user and a provider admin do with accounts: two-factor sign-in, tokens in the UI, roles.</summary>
public sealed partial class AccountTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task With_an_authenticator_turned_on_sign_in_asks_for_the_code()
    {
        var browser = await App.SignedInAsync("agent1@prodesk.test");
        var page = await browser.GetStringAsync("/account/security");
        var key = AuthenticatorKey().Match(page).Groups[1].Value.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        // Both codes fixed once: a 30 s boundary passing mid-test must not change which code is which.
        var enabling = Totp(key, DateTimeOffset.UtcNow);
        var next = Totp(key, DateTimeOffset.UtcNow.AddSeconds(30));
        var enable = await browser.PostAsync("/account/security?handler=EnableTwoFactor", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["CurrentPassword"] = Browserless.DemoPassword,
            ["Code"] = enabling,
            ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(browser, "/account/security"),
        }));
        Assert.Contains("Two-factor sign-in is on.", await enable.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var again = App.Client();
        var first = await again.PostLoginAsync("agent1@prodesk.test", Browserless.DemoPassword);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal("/login/2fa", first.Headers.Location?.OriginalString.Split('?')[0]);
        Assert.Equal(HttpStatusCode.Redirect, (await again.GetAsync("/agent")).StatusCode);

        var wrong = await PostCodeAsync(again, "000000" == enabling || "000000" == next ? "111111" : "000000");
        // Status and redirect in the message: a CI run once saw an empty answer here, unexplained so far.
        Assert.True(wrong.StatusCode == HttpStatusCode.OK, $"{(int)wrong.StatusCode} {wrong.Headers.Location} {await wrong.Content.ReadAsStringAsync()}");
        Assert.Contains("That code is not valid.", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The code that turned two-factor on is spent; the authenticator's next one (still within the window) signs in.
        var spent = await PostCodeAsync(again, enabling);
        Assert.Contains("That code is not valid.", await spent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var right = await PostCodeAsync(again, next);
        Assert.Equal("/agent", right.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/agent")).StatusCode);

        // The same code again, from another browser and typed without its leading zeros, is refused: a code works once.
        var replay = App.Client();
        Assert.Equal(HttpStatusCode.Redirect, (await replay.PostLoginAsync("agent1@prodesk.test", Browserless.DemoPassword)).StatusCode);
        var replayed = await PostCodeAsync(replay, next.TrimStart('0') is { Length: > 0 } trimmed ? trimmed : "0");
        Assert.Contains("That code is not valid.", await replayed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Turning_two_factor_off_asks_for_the_password_again()
    {
        var browser = await App.SignedInAsync("agent2@prodesk.test");
        var page = await browser.GetStringAsync("/account/security");
        var key = AuthenticatorKey().Match(page).Groups[1].Value.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        // Turning it on asks for the password too: a session taken over must not bind the taker's authenticator app.
        var code = Totp(key, DateTimeOffset.UtcNow);
        var withoutPassword = await browser.PostAsync("/account/security?handler=EnableTwoFactor", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Code"] = code,
            ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(browser, "/account/security"),
        }));
        Assert.Contains("That password is not right; two-factor sign-in stays off.", await withoutPassword.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var enable = await browser.PostAsync("/account/security?handler=EnableTwoFactor", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["CurrentPassword"] = Browserless.DemoPassword,
            ["Code"] = code,
            ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(browser, "/account/security"),
        }));
        Assert.Contains("Two-factor sign-in is on.", await enable.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A session left open (or taken over) is not enough.
        foreach (var password in new[] { "", "not-the-password" })
        {
            var refused = await browser.PostAsync("/account/security?handler=DisableTwoFactor", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["CurrentPassword"] = password,
                ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(browser, "/account/security"),
            }));
            Assert.Contains("two-factor sign-in stays on", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.True((await App.UserAsync("agent2@prodesk.test")).TwoFactorEnabled);
        var off = await browser.PostAsync("/account/security?handler=DisableTwoFactor", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["CurrentPassword"] = Browserless.DemoPassword,
            ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(browser, "/account/security"),
        }));
        Assert.Contains("Two-factor sign-in is off.", await off.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await App.UserAsync("agent2@prodesk.test")).TwoFactorEnabled);
        // Each change renewed the user's security stamp; the session that made it stays signed in.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/agent")).StatusCode);
    }

    [Fact]
    public async Task A_token_made_in_the_ui_is_shown_once_and_listed_without_its_secret()
    {
        var browser = await App.SignedInAsync("supervisor@prodesk.test");
        var created = await browser.PostAsync("/account/tokens?handler=Create", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Name"] = "reporting <script>",
            ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(browser, "/account/tokens"),
        }));
        // Post/Redirect/Get: the page the POST sends the browser to shows the secret, once.
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var html = await browser.GetStringAsync(created.Headers.Location!.OriginalString);
        var secret = NewToken().Match(html).Groups[1].Value;
        Assert.StartsWith("pdk_", secret, StringComparison.Ordinal);
        Assert.Contains("reporting &lt;script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("reporting <script>", html, StringComparison.Ordinal);

        var later = await browser.GetStringAsync("/account/tokens");
        Assert.DoesNotContain(secret, later, StringComparison.Ordinal);
        Assert.Contains(secret[4..12], later, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().WithBearer(secret).GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task Fields_a_caller_may_not_set_are_ignored_never_applied()
    {
        var victim = await App.UserAsync("admin@northwind.test");
        var attacker = await App.SignedInAsync("admin@acme.test");
        var response = await attacker.PostAsJsonAsync("/api/v1/me/tokens", new { name = "sneaky", userId = victim.Id, tenantId = victim.TenantId, role = "ProviderAdmin" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var secret = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;

        var me = await App.CreateClient().WithBearer(secret).JsonAsync("/api/v1/me");
        Assert.Equal("admin@acme.test", me.GetProperty("email").GetString());
        Assert.Equal(["ClientAdmin"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("acme", me.GetProperty("tenants")[0].GetProperty("slug").GetString());
    }

    [Fact]
    public async Task A_provider_admin_changes_a_staff_role_which_applies_and_is_audited()
    {
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var agent = await App.UserAsync("agent4@prodesk.test");

        var invalid = await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agent.Id}/role", new { role = "ClientAdmin" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("application/problem+json", invalid.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"role\"", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Named in any case, as an item's status is.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agent.Id}/role", new { role = "supervisor" })).StatusCode);
        var me = await App.CreateClient().WithBearer((await App.PatAsync("agent4@prodesk.test")).Secret).JsonAsync("/api/v1/me");
        Assert.Equal(["Supervisor"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        var staff = await admin.JsonAsync("/api/v1/admin/staff/");
        Assert.Contains(staff.EnumerateArray(), s => s.GetProperty("email").GetString() == "agent4@prodesk.test" && s.GetProperty("roles")[0].GetString() == "Supervisor");

        await using var scope = App.Services.CreateAsyncScope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().AuditEvents
            .AnyAsync(e => e.Action == "role-changed" && e.Target == "agent4@prodesk.test" && e.Details == "Agent -> Supervisor"));
    }

    [Fact]
    public async Task An_admin_demoted_while_signed_in_cannot_act_as_admin_with_the_session_they_still_hold()
    {
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var agent = await App.UserAsync("agent3@prodesk.test");
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agent.Id}/role", new { role = "ProviderAdmin" })).StatusCode);
        // As shipped, a browser session re-reads its user once a minute (the tests' app re-reads it on every request).
        using var shipped = App.WithWebHostBuilder(b => b.UseSetting("Identity:SessionRecheckSeconds", "600"));
        var session = await shipped.SignedInAsync("agent3@prodesk.test");
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/api/v1/admin/staff/")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agent.Id}/role", new { role = "Agent" })).StatusCode);

        // Within the session's re-check interval its cookie still says ProviderAdmin: giving the role back must not work.
        Assert.Equal(HttpStatusCode.NotFound, (await session.PutAsJsonAsync($"/api/v1/admin/staff/{agent.Id}/role", new { role = "ProviderAdmin" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await session.GetAsync("/admin/staff")).StatusCode);
        await using var scope = App.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.Equal([Roles.Agent], await users.GetRolesAsync((await users.FindByIdAsync(agent.Id.ToString()))!));
    }

    [Fact]
    public async Task Saving_a_members_tenants_or_role_unchanged_leaves_their_sessions_signed_in()
    {
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var agent = await App.UserAsync("agent2@prodesk.test");
        var session = await App.SignedInAsync("agent2@prodesk.test");
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agent.Id}/tenants", new { tenants = new[] { "northwind", "acme" } })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agent.Id}/role", new { role = "Agent" })).StatusCode);

        // The tests' app re-checks a session against the stored user on every request: a new stamp would end it here.
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(agent.SecurityStamp, (await App.UserAsync("agent2@prodesk.test")).SecurityStamp);
    }

    [Fact]
    public async Task The_admin_page_reassigns_an_agent()
    {
        var admin = await App.SignedInAsync("admin@prodesk.test");
        var agent = await App.UserAsync("agent3@prodesk.test");
        var post = await admin.PostAsync($"/admin/staff?id={agent.Id}", new FormUrlEncodedContent(
        [
            new("tenants", "acme"),
            new("tenants", "northwind"),
            new("__RequestVerificationToken", await Browserless.AntiforgeryTokenAsync(admin, "/admin/staff")),
        ]));
        Assert.Contains("Chen Wei now serves acme, northwind.", System.Net.WebUtility.HtmlDecode(await post.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        var me = await App.CreateClient().WithBearer((await App.PatAsync("agent3@prodesk.test")).Secret).JsonAsync("/api/v1/tenants");
        Assert.Equal(["acme", "northwind"], me.EnumerateArray().Select(t => t.GetProperty("slug").GetString()).Order());
    }

    [Fact]
    public async Task An_agent_taken_off_a_client_hands_its_items_there_back_to_the_queue()
    {
        var agent = await App.UserAsync("agent2@prodesk.test");
        var acmeItem = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "handover-acme", "Stuck order");
        var northwindItem = await (await App.IntegrationClientAsync("northwind")).CreateConversationAsync("northwind", "handover-nw", "Late delivery");
        foreach (var (slug, id) in new[] { ("acme", acmeItem), ("northwind", northwindItem) })
        {
            await App.InTenantAsync(slug, async db =>
            {
                await db.WorkItems.Where(w => w.Id == id).ExecuteUpdateAsync(u => u.SetProperty(w => w.AssigneeId, agent.Id));
                return 0;
            });
        }

        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agent.Id}/tenants", new { tenants = new[] { "northwind" } })).StatusCode);

        // The agent can no longer see the acme item: it is back in acme's queue, and the trail says who let it go.
        var released = await App.InTenantAsync("acme", db => db.WorkItems.AsNoTracking().SingleAsync(w => w.Id == acmeItem));
        Assert.Null(released.AssigneeId);
        var change = await App.InTenantAsync("acme", db => db.WorkItemChanges.AsNoTracking().Where(c => c.WorkItemId == acmeItem && c.Field == "assignee").OrderBy(c => c.Id).LastAsync());
        Assert.Equal((agent.Id.ToString(), (string?)null, "admin@prodesk.test"), (change.From, change.To, change.ActorName));
        Assert.Equal(agent.Id, await App.InTenantAsync("northwind", db => db.WorkItems.Where(w => w.Id == northwindItem).Select(w => w.AssigneeId).SingleAsync()));
    }

    [Theory]
    [InlineData("/hubs/agent", "access_token=pdk_abc", null, "pdk_abc")]
    [InlineData("/api/v1/me", "access_token=pdk_abc", null, null)]
    [InlineData("/api/v1/me", "", "Bearer pdk_xyz", "pdk_xyz")]
    [InlineData("/hubs/agent", "access_token=pdk_abc", "Bearer eyJ", "eyJ")]
    public void Hubs_also_take_the_token_from_the_query_and_only_hubs_do(string path, string query, string? header, string? expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query.Length == 0 ? "" : "?" + query);
        if (header is not null)
        {
            context.Request.Headers.Authorization = header;
        }

        Assert.Equal(expected, BearerToken.From(context.Request));
    }

    private static async Task<HttpResponseMessage> PostCodeAsync(HttpClient client, string code) =>
        await client.PostAsync("/login/2fa", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Code"] = code,
            ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(client, "/login/2fa"),
        }));

    /// <summary>RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits), as an authenticator app computes it.</summary>
    private static string Totp(string base32Key, DateTimeOffset at)
    {
        var key = Base32(base32Key);
        var counter = BitConverter.GetBytes(at.ToUnixTimeSeconds() / 30);
        if (BitConverter.IsLittleEndian)
        {
            Array.Reverse(counter);
        }

#pragma warning disable CA5350 // RFC 6238 authenticator apps use HMAC-SHA1; this computes what they compute.
        var hash = HMACSHA1.HashData(key, counter);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0f;
        var value = ((hash[offset] & 0x7f) << 24) | (hash[offset + 1] << 16) | (hash[offset + 2] << 8) | hash[offset + 3];
        return (value % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static byte[] Base32(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bits = string.Concat(text.TrimEnd('=').Select(c => Convert.ToString(alphabet.IndexOf(c, StringComparison.Ordinal), 2).PadLeft(5, '0')));
        return Enumerable.Range(0, bits.Length / 8).Select(i => Convert.ToByte(bits.Substring(i * 8, 8), 2)).ToArray();
    }

    [GeneratedRegex("data-testid=\"authenticator-key\">([^<]+)<")]
    private static partial Regex AuthenticatorKey();

    [GeneratedRegex("data-testid=\"new-token\">([^<]+)<")]
    private static partial Regex NewToken();
}
