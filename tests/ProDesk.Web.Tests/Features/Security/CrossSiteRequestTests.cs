using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.EntityFrameworkCore;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Security;

/// <summary>
/// A page on another site cannot use an agent's signed-in browser against the API or the agent hub:
/// claim items, upload files, or open the hub's WebSocket and listen to every tenant the agent serves.
/// </summary>
public sealed class CrossSiteRequestTests(ProDeskApp app) : PostgresTest(app)
{
    [Theory]
    [InlineData("cross-site", null)]
    [InlineData("same-site", null)]
    [InlineData(null, "http://evil.example")]
    public async Task Another_sites_page_cannot_make_a_signed_in_browser_claim_or_upload(string? fetchSite, string? origin)
    {
        var item = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "cross-site-1");
        var agent = await App.SignedInAsync("agent1@prodesk.test");

        var claim = await agent.SendAsync(From(new HttpRequestMessage(HttpMethod.Post, "/api/v1/work/next"), fetchSite, origin));
        var upload = await agent.SendAsync(From(new HttpRequestMessage(HttpMethod.Post, $"/api/v1/tenants/acme/work-items/{item}/attachments") { Content = File() }, fetchSite, origin));

        Assert.Equal(HttpStatusCode.Forbidden, claim.StatusCode);
        Assert.Equal("application/problem+json", claim.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
        Assert.Null((await App.InTenantAsync("acme", db => db.WorkItems.AsNoTracking().SingleAsync(w => w.Id == item))).AssigneeId);
        Assert.Empty(await App.InTenantAsync("acme", db => db.WorkItemAttachments.AsNoTracking().ToListAsync()));
    }

    [Fact]
    public async Task The_console_its_own_site_and_token_holders_anywhere_still_call_the_api()
    {
        var item = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "cross-site-2");
        var agent = await App.SignedInAsync("agent1@prodesk.test");
        var script = App.CreateClient().WithBearer((await App.PatAsync("agent2@prodesk.test")).Secret);

        var console = await agent.SendAsync(From(new HttpRequestMessage(HttpMethod.Post, "/api/v1/work/next"), "same-origin", "http://localhost"));
        var olderBrowser = await agent.SendAsync(From(new HttpRequestMessage(HttpMethod.Post, $"/api/v1/tenants/acme/work-items/{item}/attachments") { Content = File() }, null, "http://localhost"));
        var tokenHolder = await script.SendAsync(From(new HttpRequestMessage(HttpMethod.Post, "/api/v1/work/next"), "cross-site", "http://tools.example"));

        Assert.Equal(HttpStatusCode.OK, console.StatusCode);
        Assert.Equal(HttpStatusCode.Created, olderBrowser.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, tokenHolder.StatusCode);
    }

    [Fact]
    public async Task The_agent_hubs_websocket_opens_for_the_console_and_not_for_another_site()
    {
        var cookies = new CookieContainer();
        var browser = App.CreateDefaultClient(new CookieContainerHandler(cookies));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostLoginAsync("agent1@prodesk.test", Browserless.DemoPassword)).StatusCode);
        var cookie = cookies.GetCookieHeader(App.Server.BaseAddress);

        var fromConsole = App.Server.CreateWebSocketClient();
        fromConsole.ConfigureRequest = r => (r.Headers.Cookie, r.Headers.Origin) = (cookie, "http://localhost");
        using var socket = await fromConsole.ConnectAsync(new Uri(App.Server.BaseAddress, "hubs/agent"), CancellationToken.None);
        var fromElsewhere = App.Server.CreateWebSocketClient();
        fromElsewhere.ConfigureRequest = r => (r.Headers.Cookie, r.Headers.Origin) = (cookie, "http://evil.example");

        var refused = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => fromElsewhere.ConnectAsync(new Uri(App.Server.BaseAddress, "hubs/agent"), CancellationToken.None));

        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, socket.State);
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_websocket_upgrade_to_the_agent_hub_from_another_site_is_refused_before_the_hub_sees_it()
    {
        var agent = await App.SignedInAsync("agent1@prodesk.test");
        // As a browser sends it to Kestrel: a GET that nothing has recognised as a WebSocket yet.
        using var upgrade = new HttpRequestMessage(HttpMethod.Get, "/hubs/agent");
        upgrade.Headers.Add("Origin", "http://evil.example");
        upgrade.Headers.Add("Connection", "Upgrade");
        upgrade.Headers.Add("Upgrade", "websocket");
        upgrade.Headers.Add("Sec-WebSocket-Version", "13");
        upgrade.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(new byte[16]));

        var response = await agent.SendAsync(upgrade);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("http://localhost", null)]
    [InlineData("https://desk.example.com", "desk.example.com")]
    [InlineData("https://desk.example.com", "desk.example.com:443")]
    public async Task An_older_browser_on_this_site_is_known_by_its_origin_behind_a_proxy_too(string origin, string? forwardedHost)
    {
        await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "cross-site-3");
        var agent = await App.SignedInAsync("agent1@prodesk.test");
        var request = From(new HttpRequestMessage(HttpMethod.Post, "/api/v1/work/next"), null, origin);
        if (forwardedHost is not null)
        {
            request.Headers.Add("X-Forwarded-Host", forwardedHost);
        }

        Assert.Equal(HttpStatusCode.OK, (await agent.SendAsync(request)).StatusCode);
    }

    private static HttpRequestMessage From(HttpRequestMessage request, string? fetchSite, string? origin)
    {
        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return request;
    }

    /// <summary>What a plain HTML form on any site can post: multipart, no preflight.</summary>
    private static MultipartFormDataContent File()
    {
        var file = new ByteArrayContent("hello"u8.ToArray());
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        return new MultipartFormDataContent { { file, "file", "note.txt" } };
    }
}
