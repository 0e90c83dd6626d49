using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Security;

/// <summary>
/// Every HTML page carries a Content-Security-Policy whose nonce is new on every request, and
/// every script and style element the page writes carries that nonce; nothing relies on inline
/// handlers or inline styles, so the policy blocks anything an attacker manages to inject.
/// </summary>
public sealed class CspTests(ProDeskApp app) : PostgresTest(app)
{
    /// <summary>Vendor UIs that keep inline styles (never inline scripts): see SecurityHeaders.</summary>
    private static readonly string[] InlineStylePages = ["/api/docs/", "/hangfire", "/hangfire/recurring"];

    [Fact]
    public async Task Every_page_has_a_fresh_nonce_per_request_on_its_policy_and_on_each_of_its_scripts()
    {
        var id = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "csp-1");
        var pages = new (string Who, string[] Paths)[]
        {
            ("", ["/", "/login", "/t/acme", "/logout", "/api/docs/"]),
            ("agent1@prodesk.test", ["/agent", "/agent?handler=Queue", $"/agent/items/acme/{id}", $"/agent/items/acme/{id}?handler=Thread", "/account/security", "/account/tokens"]),
            ("supervisor@prodesk.test", ["/supervisor", "/supervisor?handler=Board"]),
            ("admin@prodesk.test", ["/admin", "/admin/staff", "/admin/sla/acme", "/hangfire", "/hangfire/recurring"]),
            ("admin@acme.test", ["/portal"]),
        };

        foreach (var (who, paths) in pages)
        {
            var client = who.Length == 0 ? App.Client() : await App.SignedInAsync(who);
            foreach (var path in paths)
            {
                var first = await PageAsync(client, path);
                var second = await PageAsync(client, path);
                Assert.NotEqual(first.Nonce, second.Nonce);

                foreach (var (html, nonce, policy) in new[] { first, second })
                {
                    var document = new HtmlParser().ParseDocument(html);
                    var inlineStyles = InlineStylePages.Contains(path);
                    // Ours all carry the nonce; Hangfire's are files of its own under /hangfire ('self'), never inline.
                    Assert.All(document.QuerySelectorAll("script"), s => Assert.True(
                        s.GetAttribute("nonce") == nonce || (path.StartsWith("/hangfire", StringComparison.Ordinal) && s.GetAttribute("src")?.StartsWith("/hangfire/", StringComparison.Ordinal) == true),
                        $"{path}: a script without this request's nonce: {s.OuterHtml[..Math.Min(120, s.OuterHtml.Length)]}"));
                    Assert.All(document.QuerySelectorAll("style"), s => Assert.True(inlineStyles || s.GetAttribute("nonce") == nonce, $"{path}: a style element without the nonce"));
                    Assert.All(document.All, e => Assert.False(e.Attributes.Any(a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase)), $"{path}: inline handler on <{e.LocalName}>"));
                    Assert.All(document.All, e => Assert.True(inlineStyles || !e.HasAttribute("style"), $"{path}: style attribute on <{e.LocalName}>"));
                    Assert.DoesNotContain("javascript:", html, StringComparison.OrdinalIgnoreCase);
                    Assert.Equal(inlineStyles ? "'self' 'unsafe-inline'" : $"'self' 'nonce-{nonce}'", policy["style-src"]);
                }
            }
        }
    }

    [Fact]
    public async Task The_page_policy_allows_no_inline_code_no_plugins_no_base_and_no_framing()
    {
        var response = await App.Client().GetAsync("/");
        var policy = Directives(response);

        Assert.Equal("'self'", policy["default-src"]);
        Assert.Matches("^'self' 'nonce-[A-Za-z0-9+/]{22}==' *$", policy["script-src"]);
        Assert.Equal("'none'", policy["object-src"]);
        Assert.Equal("'none'", policy["base-uri"]);
        Assert.Equal("'none'", policy["frame-ancestors"]);
        Assert.Equal("'self'", policy["form-action"]);
        Assert.Equal("'self'", policy["connect-src"]);
        Assert.DoesNotContain("unsafe-eval", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task The_sign_in_page_lets_its_form_lead_on_to_an_oauth_clients_redirect_uri()
    {
        // After the POST, /connect/authorize redirects to the client's redirect URI: form-action 'self' would block it.
        var policy = Directives(await App.Client().GetAsync("/login"));

        Assert.False(policy.ContainsKey("form-action"));
        Assert.Equal("'none'", policy["frame-ancestors"]);
        Assert.StartsWith("'self' 'nonce-", policy["script-src"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Downloads_keep_their_own_strict_policy()
    {
        var integration = await App.IntegrationClientAsync("acme");
        var id = await integration.CreateConversationAsync("acme", "csp-download");
        var upload = await integration.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments",
            new MultipartFormDataContent { { new ByteArrayContent("<html><script>alert(1)</script>"u8.ToArray()), "file", "page.html" } });
        var location = upload.Headers.Location!.OriginalString;

        var download = await integration.GetAsync(location);

        Assert.Equal("default-src 'none'; sandbox", download.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
    }

    private static async Task<(string Html, string Nonce, Dictionary<string, string> Policy)> PageAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var policy = Directives(response);
        var nonce = policy["script-src"].Split(' ').Single(s => s.StartsWith("'nonce-", StringComparison.Ordinal))["'nonce-".Length..^1];
        return (await response.Content.ReadAsStringAsync(), nonce, policy);
    }

    private static Dictionary<string, string> Directives(HttpResponseMessage response) =>
        response.Headers.GetValues("Content-Security-Policy").Single()
            .Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(d => d.Split(' ', 2))
            .ToDictionary(d => d[0], d => d.Length > 1 ? d[1] : "", StringComparer.Ordinal);
}
