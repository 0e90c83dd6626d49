using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using ProDesk.Data;
using ProDesk.Web.Data.Seeding;
using ProDesk.Web.Identity.Accounts;
using ProDesk.Web.Pages.Account;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Identity;

/// <summary>
/// A user's life from invitation to leaving (probe round 20, F1): invited by email, a password set from the mailed link,
/// a forgotten one set again from /login, and an account disabled and enabled by its admin. Mail is read back from the
/// pickup folder the app writes when no relay is configured, as a newcomer would read it.
/// </summary>
public sealed partial class UserAccountsTests(ProDeskApp app) : PostgresTest(app)
{
    private const string NewPassword = "Chosen-by-them-42";

    [Fact]
    public async Task An_invited_agent_sets_a_password_from_the_mailed_link_signs_in_and_the_link_works_only_once()
    {
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var email = $"new-agent-{Guid.NewGuid():N}@provider.example";

        var created = await admin.PostAsJsonAsync("/api/v1/admin/users", new { email, name = "Nora New", role = "agent" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var user = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["Agent"], user.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.True(user.GetProperty("invited").GetBoolean());
        Assert.False(user.GetProperty("disabled").GetBoolean());

        var mail = await MailToAsync(email);
        Assert.Equal("Your ProDesk account", mail.Subject);
        var link = LinkIn(mail);
        var browser = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(link)).StatusCode);
        // Opening the link changed nothing: still no password.
        Assert.True((await admin.JsonAsync($"/api/v1/admin/users/{user.GetProperty("id").GetGuid()}")).GetProperty("invited").GetBoolean());

        var set = await SetPasswordAsync(browser, link, NewPassword);
        Assert.Contains("Your password is set.", set, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await App.Client().PostLoginAsync(email, NewPassword)).StatusCode);

        var again = await SetPasswordAsync(App.Client(), link, "Someone-else-99");
        Assert.Contains(WebUtility.HtmlEncode(UserAccounts.InvalidLink), again, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await App.Client().PostLoginAsync(email, NewPassword)).StatusCode);

        // Every step is in the audit log, and the link's token in none of it.
        var token = QueryHelpers.ParseQuery(new Uri("http://x" + link).Query)["token"].ToString();
        await using var scope = App.Services.CreateAsyncScope();
        var audit = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().AuditEvents.Where(e => e.Target == email).ToListAsync();
        Assert.Contains(audit, e => e.Action == UserAccounts.Invited && e.ActorName == "admin@prodesk.test" && e.Details == "Agent");
        Assert.Contains(audit, e => e.Action == UserAccounts.PasswordSet);
        Assert.DoesNotContain(audit, e => (e.Details ?? "").Contains(token, StringComparison.Ordinal) || (e.Target ?? "").Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Inviting_names_the_field_that_is_wrong()
    {
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var bad = await admin.PostAsJsonAsync("/api/v1/admin/users", new { email = "Nora <nora@x.example>", name = "", role = "ClientAdmin" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("role", out _));

        var taken = await admin.PostAsJsonAsync("/api/v1/admin/users", new { email = "AGENT1@prodesk.test", name = "Twin", role = "Agent" });
        Assert.Equal(HttpStatusCode.BadRequest, taken.StatusCode);
        Assert.Contains("already a user's address", await taken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_admin_invites_users_of_its_own_company_only_and_another_companys_users_are_404()
    {
        var acmeAdmin = App.CreateClient().WithBearer((await App.PatAsync("admin@acme.test")).Secret);
        var email = $"viewer-{Guid.NewGuid():N}@acme.example";

        var staffRole = await acmeAdmin.PostAsJsonAsync("/api/v1/tenants/acme/users", new { email, name = "Val Viewer", role = "Agent" });
        Assert.Equal(HttpStatusCode.BadRequest, staffRole.StatusCode);
        Assert.Contains("\"role\"", await staffRole.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var created = await acmeAdmin.PostAsJsonAsync("/api/v1/tenants/acme/users", new { email, name = "Val Viewer", role = "ClientViewer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("acme", JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("tenant").GetString());
        var link = LinkIn(await MailToAsync(email));
        Assert.Contains("Your password is set.", await SetPasswordAsync(App.Client(), link, NewPassword), StringComparison.Ordinal);
        var viewer = await App.SignedInAsync(email, NewPassword);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/portal")).StatusCode);

        var listed = await acmeAdmin.JsonAsync("/api/v1/tenants/acme/users");
        Assert.Contains(listed.EnumerateArray(), u => u.GetProperty("email").GetString() == email && !u.GetProperty("invited").GetBoolean());
        Assert.DoesNotContain(listed.EnumerateArray(), u => u.GetProperty("email").GetString()!.EndsWith("@northwind.test", StringComparison.Ordinal));

        var northwindAdmin = (await App.UserAsync("admin@northwind.test")).Id;
        Assert.Equal(HttpStatusCode.NotFound, (await acmeAdmin.PutAsJsonAsync($"/api/v1/tenants/acme/users/{northwindAdmin}/disabled", new { disabled = true })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acmeAdmin.PostAsync($"/api/v1/tenants/acme/users/{northwindAdmin}/invitation", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acmeAdmin.GetAsync("/api/v1/tenants/northwind/users")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acmeAdmin.PostAsJsonAsync("/api/v1/tenants/northwind/users", new { email = "x@northwind.example", name = "X", role = "ClientAdmin" })).StatusCode);
        // A viewer manages nobody; nor does a client admin act as a provider admin.
        var viewerToken = App.CreateClient().WithBearer((await App.PatAsync("viewer@acme.test")).Secret);
        Assert.Equal(HttpStatusCode.NotFound, (await viewerToken.GetAsync("/api/v1/tenants/acme/users")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acmeAdmin.PutAsJsonAsync($"/api/v1/admin/users/{northwindAdmin}/disabled", new { disabled = true })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().WithBearer((await App.PatAsync("admin@northwind.test")).Secret).GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task A_disabled_user_cannot_sign_in_and_their_session_tokens_and_oauth_tokens_stop_at_once()
    {
        var browser = await App.SignedInAsync("agent1@prodesk.test");
        var pat = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var oauth = await OAuthTokensAsync("agent1@prodesk.test");
        var bearer = App.CreateClient().WithBearer(oauth.GetProperty("access_token").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await pat.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/api/v1/me")).StatusCode);

        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var agentId = (await App.UserAsync("agent1@prodesk.test")).Id;
        var itemId = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", $"held-{Guid.NewGuid():N}");
        await App.InTenantAsync("acme", async db =>
        {
            var item = await db.WorkItems.SingleAsync(w => w.Id == itemId);
            item.AssigneeId = agentId;
            return await db.SaveChangesAsync();
        });
        var missing = await admin.PutAsJsonAsync($"/api/v1/admin/users/{agentId}/disabled", new { });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("\"disabled\"", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/users/{agentId}/disabled", new { disabled = true })).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/me")).StatusCode);
        // The leaver's open work is back in the queue for a colleague's "next item".
        Assert.Null(await App.InTenantAsync("acme", db => db.WorkItems.Where(w => w.Id == itemId).Select(w => w.AssigneeId).SingleAsync()));
        Assert.Equal(HttpStatusCode.Unauthorized, (await pat.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("/api/v1/me")).StatusCode);
        var refreshed = await TokenAsync(new()
        {
            ["grant_type"] = "refresh_token", ["client_id"] = DemoSeeder.InteractiveClientId, ["refresh_token"] = oauth.GetProperty("refresh_token").GetString()!,
        });
        Assert.False(refreshed.TryGetProperty("access_token", out _));
        var login = await App.Client().PostLoginAsync("agent1@prodesk.test", Browserless.DemoPassword);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        // Said as for an address that is no account's: the page tells nobody that this one exists.
        Assert.Equal(ProDesk.Web.Pages.Account.LoginModel.InvalidMessage, Browserless.LoginMessage(await login.Content.ReadAsStringAsync()));
        Assert.True((await admin.JsonAsync($"/api/v1/admin/users/{agentId}")).GetProperty("disabled").GetBoolean());
        // Nor can an admin disable themselves.
        var self = await admin.PutAsJsonAsync($"/api/v1/admin/users/{(await App.UserAsync("admin@prodesk.test")).Id}/disabled", new { disabled = true });
        Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/users/{agentId}/disabled", new { disabled = false })).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await App.Client().PostLoginAsync("agent1@prodesk.test", Browserless.DemoPassword)).StatusCode);
        // Enabling gives sign-in back, not the tokens disabling ended.
        Assert.Equal(HttpStatusCode.Unauthorized, (await pat.GetAsync("/api/v1/me")).StatusCode);

        await using var scope = App.Services.CreateAsyncScope();
        var audit = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().AuditEvents.Where(e => e.Target == "agent1@prodesk.test").Select(e => e.Action).ToListAsync();
        Assert.Contains(UserAccounts.Disabled, audit);
        Assert.Contains(UserAccounts.Enabled, audit);
    }

    [Fact]
    public async Task A_client_admin_disables_a_viewer_of_its_company_whose_portal_session_ends_at_once()
    {
        var viewer = await App.SignedInAsync("viewer@acme.test");
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/portal")).StatusCode);
        var acmeAdmin = App.CreateClient().WithBearer((await App.PatAsync("admin@acme.test")).Secret);
        var viewerId = (await App.UserAsync("viewer@acme.test")).Id;

        Assert.Equal(HttpStatusCode.NoContent, (await acmeAdmin.PutAsJsonAsync($"/api/v1/tenants/acme/users/{viewerId}/disabled", new { disabled = true })).StatusCode);

        Assert.Equal(HttpStatusCode.Redirect, (await viewer.GetAsync("/portal")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.Client().PostLoginAsync("viewer@acme.test", Browserless.DemoPassword)).StatusCode);
        Assert.True(await App.InTenantAsync("acme", db => db.AuditEvents.AnyAsync(e => e.Action == UserAccounts.Disabled && e.Target == "viewer@acme.test" && e.ActorName == "admin@acme.test")));
    }

    [Fact]
    public async Task Forgot_password_answers_alike_for_any_address_and_mails_a_link_only_to_an_enabled_account()
    {
        var unknown = $"nobody-{Guid.NewGuid():N}@acme.example";
        var browser = App.Client();
        var first = await PostForgotAsync(browser, unknown);
        // The account of the second request: a fresh one, so that no other test's mail to it can be mistaken for this.
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var email = $"forgetful-{Guid.NewGuid():N}@provider.example";
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/admin/users", new { email, name = "Fay Forgetful", role = "Supervisor" })).StatusCode);
        Assert.Contains("Your password is set.", await SetPasswordAsync(App.Client(), LinkIn(await MailToAsync(email)), NewPassword), StringComparison.Ordinal);

        var second = await PostForgotAsync(browser, email);
        Assert.Contains(WebUtility.HtmlEncode(ForgotPasswordModel.SentMessage), first, StringComparison.Ordinal);
        Assert.Equal(first, second);

        // The queue sends in order: once the known address's mail is out, the unknown one would be too.
        var mail = await MailToAsync(email, m => m.Subject == "Set a new ProDesk password");
        Assert.Empty(await MailsToAsync(unknown));
        Assert.Contains("Your password is set.", await SetPasswordAsync(App.Client(), LinkIn(mail), "Another-one-77"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await App.Client().PostLoginAsync(email, "Another-one-77")).StatusCode);
        Assert.Contains("Forgot your password?", await App.Client().GetStringAsync("/login"), StringComparison.Ordinal);
    }

    private static async Task<string> PostForgotAsync(HttpClient browser, string email)
    {
        var response = await browser.PostAsync("/login/forgot", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Email"] = email,
            ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(browser, "/login/forgot"),
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // What differs per response anyway: the form's antiforgery token and the page's CSP nonce.
        return PerResponse().Replace(await response.Content.ReadAsStringAsync(), "");
    }

    /// <summary>Posts a password on the link's page as its form does; the page's text.</summary>
    private static async Task<string> SetPasswordAsync(HttpClient browser, string link, string password)
    {
        // What the page's form holds, as a browser would post it.
        var page = await browser.GetStringAsync(link);
        string Field(string name) => Regex.Match(page, $"name=\"{name}\" value=\"([^\"]*)\"") is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : throw new InvalidOperationException($"no {name} on {link}");
        var response = await browser.PostAsync("/account/set-password", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user"] = Field("user"),
            ["Token"] = Field("Token"),
            ["Password"] = password,
            ["__RequestVerificationToken"] = Browserless.AntiforgeryTokenIn(page, link),
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The path and query of the set-password link in <paramref name="mail"/>.</summary>
    private static string LinkIn(MimeMessage mail)
    {
        var match = Link().Match(mail.TextBody ?? "");
        Assert.True(match.Success, mail.TextBody);
        return match.Groups[1].Value;
    }

    private string PickupFolder => Path.Combine(App.DataDirectory, "mail-outbox");

    private async Task<List<MimeMessage>> MailsToAsync(string address)
    {
        var found = new List<MimeMessage>();
        if (!Directory.Exists(PickupFolder))
        {
            return found;
        }

        foreach (var file in Directory.EnumerateFiles(PickupFolder, "*.eml"))
        {
            var mail = await MimeMessage.LoadAsync(file);
            if (mail.To.Mailboxes.Any(m => string.Equals(m.Address, address, StringComparison.OrdinalIgnoreCase)))
            {
                found.Add(mail);
            }
        }

        return found;
    }

    /// <summary>The mail to <paramref name="address"/> once the app's mail queue has written it (it sends from its own thread).</summary>
    private async Task<MimeMessage> MailToAsync(string address, Func<MimeMessage, bool>? which = null)
    {
        // Woken by the folder's events rather than polled; the watcher runs before each look, so no file falls between.
        Directory.CreateDirectory(PickupFolder);
        var arrived = System.Threading.Channels.Channel.CreateUnbounded<bool>();
        using var watcher = new FileSystemWatcher(PickupFolder);
        watcher.Created += (_, _) => arrived.Writer.TryWrite(true);
        watcher.Renamed += (_, _) => arrived.Writer.TryWrite(true);
        watcher.EnableRaisingEvents = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            if ((await MailsToAsync(address)).FirstOrDefault(m => which?.Invoke(m) ?? true) is { } mail)
            {
                return mail;
            }

            await arrived.Reader.ReadAsync(timeout.Token);
        }
    }

    private async Task<JsonElement> TokenAsync(Dictionary<string, string> form)
    {
        var response = await App.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(form));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>An access and a refresh token of <paramref name="email"/>, through the authorization-code flow with PKCE.</summary>
    private async Task<JsonElement> OAuthTokensAsync(string email)
    {
        var browser = await App.SignedInAsync(email);
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var authorize = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/authorize", new Dictionary<string, string?>
        {
            ["client_id"] = DemoSeeder.InteractiveClientId,
            ["redirect_uri"] = DemoSeeder.InteractiveRedirectUri,
            ["response_type"] = "code",
            ["scope"] = "api offline_access",
            ["code_challenge"] = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            ["code_challenge_method"] = "S256",
            ["state"] = "xyz",
        }));
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        var code = QueryHelpers.ParseQuery(authorize.Headers.Location!.Query)["code"].ToString();
        return await TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = DemoSeeder.InteractiveClientId,
            ["redirect_uri"] = DemoSeeder.InteractiveRedirectUri,
            ["code"] = code,
            ["code_verifier"] = verifier,
        });
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex(@"https?://[^/\s]+(/account/set-password\?\S+)")]
    private static partial Regex Link();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"[^\"]*\"|nonce=\"[^\"]*\"")]
    private static partial Regex PerResponse();
}
