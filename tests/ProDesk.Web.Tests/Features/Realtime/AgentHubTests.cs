using System.Net;
using System.Net.Http.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Realtime;

/// <summary>/hubs/agent: agents get live events for the tenants they serve only; presence shows who is on an item.</summary>
public sealed class AgentHubTests(ProDeskApp app) : PostgresTest(app)
{
    private sealed class Console(HubConnection connection) : IAsyncDisposable
    {
        public HubConnection Connection { get; } = connection;

        public Channel<WorkItemEvent> Created { get; } = Channel.CreateUnbounded<WorkItemEvent>();

        public Channel<PresenceEvent> Presence { get; } = Channel.CreateUnbounded<PresenceEvent>();

        public ValueTask DisposeAsync() => Connection.DisposeAsync();
    }

    private async Task<Console> ConnectAsync(string email)
    {
        Console? console = null;
        var connection = await App.AgentHubAsync(email, c =>
        {
            console = new Console(c);
            c.On<WorkItemEvent>(nameof(IAgentClient.WorkItemCreated), e => console.Created.Writer.TryWrite(e));
            c.On<PresenceEvent>(nameof(IAgentClient.PresenceChanged), e => console.Presence.Writer.TryWrite(e));
        });
        return console!;
    }

    private async Task<Guid> CreateAsync(string slug, string externalId) =>
        await (await App.IntegrationClientAsync(slug)).CreateConversationAsync(slug, externalId, $"{slug} {externalId}");

    private static async Task<T> NextAsync<T>(Channel<T> channel) =>
        await channel.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

    [Fact]
    public async Task An_agent_receives_events_only_for_the_tenants_it_serves()
    {
        await using var acmeAgent = await ConnectAsync("agent2@prodesk.test");   // acme, northwind
        await using var otherAgent = await ConnectAsync("agent3@prodesk.test");  // merlion, sla-lab

        var acmeItem = await CreateAsync("acme", "live-1");
        var seen = await NextAsync(acmeAgent.Created);
        Assert.Equal(("acme", acmeItem), (seen.Tenant, seen.Id));

        var merlionItem = await CreateAsync("merlion", "live-2");
        var other = await NextAsync(otherAgent.Created);
        // Events arrive in order: had the acme event reached the other agent, it would have come first.
        Assert.Equal(("merlion", merlionItem), (other.Tenant, other.Id));
        Assert.False(acmeAgent.Created.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Watching_an_item_shows_the_others_who_is_viewing_typing_and_gone()
    {
        var item = await CreateAsync("acme", "presence-1");
        await using var a = await ConnectAsync("agent1@prodesk.test");
        await using var b = await ConnectAsync("agent2@prodesk.test");
        await b.Connection.InvokeAsync("Watch", "acme", item);
        await a.Connection.InvokeAsync("Watch", "acme", item);
        var viewing = await NextAsync(b.Presence);
        Assert.Equal(("viewing", "Alex Martin", item), (viewing.What, viewing.Name, viewing.ItemId));

        await a.Connection.InvokeAsync("Typing", "acme", item);
        Assert.Equal("typing", (await NextAsync(b.Presence)).What);

        // The tab closes (or the network goes): no Unwatch, only the connection ends.
        await a.Connection.StopAsync();
        var left = await NextAsync(b.Presence);
        Assert.Equal(("left", "Alex Martin", item, "acme"), (left.What, left.Name, left.ItemId, left.Tenant));
    }

    [Fact]
    public async Task The_second_agent_to_watch_an_item_is_told_who_is_already_viewing_it()
    {
        var item = await CreateAsync("acme", "presence-5");
        await using var a = await ConnectAsync("agent1@prodesk.test");
        await using var b = await ConnectAsync("agent2@prodesk.test");
        Assert.Empty(await b.Connection.InvokeAsync<PresenceEvent[]>("Watch", "acme", item));

        var already = await a.Connection.InvokeAsync<PresenceEvent[]>("Watch", "acme", item);

        Assert.Equal([("Bea Dubois", "viewing", item)], already.Select(p => (p.Name, p.What, p.ItemId)));
    }

    [Fact]
    public async Task A_colleague_with_the_item_open_in_one_tab_and_another_item_in_a_second_is_shown_viewing()
    {
        var (x, y) = (await CreateAsync("acme", "tabs-x"), await CreateAsync("acme", "tabs-y"));
        await using var tab1 = await ConnectAsync("agent1@prodesk.test");
        await using var tab2 = await ConnectAsync("agent1@prodesk.test");
        await using var bea = await ConnectAsync("agent2@prodesk.test");
        await tab1.Connection.InvokeAsync("Watch", "acme", x);
        await tab2.Connection.InvokeAsync("Watch", "acme", y);

        var already = await bea.Connection.InvokeAsync<PresenceEvent[]>("Watch", "acme", x);

        Assert.Equal([("Alex Martin", "viewing", x)], already.Select(p => (p.Name, p.What, p.ItemId)));
    }

    [Fact]
    public async Task Leaving_an_item_in_one_of_two_tabs_keeps_the_agent_viewing_it_and_closing_the_last_says_left()
    {
        var item = await CreateAsync("acme", "tabs-1");
        await using var bea = await ConnectAsync("agent2@prodesk.test");
        await bea.Connection.InvokeAsync("Watch", "acme", item);
        await using var tab1 = await ConnectAsync("agent1@prodesk.test");
        await using var tab2 = await ConnectAsync("agent1@prodesk.test");
        await tab1.Connection.InvokeAsync("Watch", "acme", item);
        await tab2.Connection.InvokeAsync("Watch", "acme", item);
        Assert.Equal("viewing", (await NextAsync(bea.Presence)).What);
        Assert.Equal("viewing", (await NextAsync(bea.Presence)).What);

        // The second tab moves on to the queue (its Unwatch returns once the others were told, or not).
        await tab2.Connection.InvokeAsync("Unwatch", "acme", item);
        await tab1.Connection.InvokeAsync("Typing", "acme", item);

        // The next thing Bea hears is Alex typing in the tab still open, not that he left.
        Assert.Equal("typing", (await NextAsync(bea.Presence)).What);
        await tab1.Connection.StopAsync();
        var left = await NextAsync(bea.Presence);
        Assert.Equal(("left", "Alex Martin"), (left.What, left.Name));
    }

    [Fact]
    public async Task An_agent_who_chose_away_stays_away_on_opening_an_item_page()
    {
        var item = await CreateAsync("acme", "away-1");
        var bea = (await App.UserAsync("agent2@prodesk.test")).Id;
        var acme = (await App.TenantAsync("acme")).Id;
        var presence = App.Services.GetRequiredService<IAgentPresence>();
        await using (var console = await ConnectAsync("agent2@prodesk.test"))
        {
            await console.Connection.InvokeAsync("SetStatus", "Away");
        }

        // The console's connection is gone before the item page's opens, as in one tab.
        await using var itemPage = await ConnectAsync("agent2@prodesk.test");
        await itemPage.Connection.InvokeAsync("Watch", "acme", item);

        Assert.Equal(Domain.Routing.AgentStatus.Away, (await presence.OfAsync([acme])).Single(a => a.Id == bea).Status);
    }

    [Fact]
    public async Task Watching_an_item_of_another_tenant_on_the_same_connection_leaves_the_first()
    {
        var acme = await CreateAsync("acme", "presence-3");
        var merlion = await CreateAsync("merlion", "presence-4");
        await using var a = await ConnectAsync("agent1@prodesk.test");
        await using var b = await ConnectAsync("agent2@prodesk.test");   // acme, northwind
        await b.Connection.InvokeAsync("Watch", "acme", acme);
        await a.Connection.InvokeAsync("Watch", "acme", acme);
        Assert.Equal("viewing", (await NextAsync(b.Presence)).What);

        await a.Connection.InvokeAsync("Watch", "merlion", merlion);

        var left = await NextAsync(b.Presence);
        Assert.Equal(("left", acme), (left.What, left.ItemId));
    }

    [Fact]
    public async Task Hub_calls_naming_another_tenant_or_its_items_are_not_found()
    {
        var northwindItem = await CreateAsync("northwind", "hidden-1");
        await using var agent = await ConnectAsync("agent3@prodesk.test");  // merlion, sla-lab
        var wrongTenant = await Assert.ThrowsAsync<HubException>(() => agent.Connection.InvokeAsync("Watch", "northwind", northwindItem));
        Assert.Contains("Not found.", wrongTenant.Message, StringComparison.Ordinal);
        var wrongItem = await Assert.ThrowsAsync<HubException>(() => agent.Connection.InvokeAsync("Watch", "merlion", northwindItem));
        Assert.Contains("Not found.", wrongItem.Message, StringComparison.Ordinal);
        var unwatch = await Assert.ThrowsAsync<HubException>(() => agent.Connection.InvokeAsync("Unwatch", "merlion", northwindItem));
        Assert.Contains("Not found.", unwatch.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_open_connection_loses_a_tenant_taken_from_its_agent()
    {
        await using var agent = await ConnectAsync("agent2@prodesk.test");  // acme, northwind
        var closed = new TaskCompletionSource();
        agent.Connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        var acmeItem = await CreateAsync("acme", "taken-1");
        Assert.Equal(acmeItem, (await NextAsync(agent.Created)).Id);

        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var bea = await App.UserAsync("agent2@prodesk.test");
        Assert.True((await admin.PutAsJsonAsync($"/api/v1/admin/staff/{bea.Id}/tenants", new { tenants = new[] { "northwind" } })).IsSuccessStatusCode);

        // The node re-checks its hub connections every session-recheck interval (at least a second in tests).
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await using var again = await ConnectAsync("agent2@prodesk.test");
        var refused = await Assert.ThrowsAsync<HubException>(() => again.Connection.InvokeAsync("Watch", "acme", acmeItem));
        Assert.Contains("Not found.", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tenant_taken_from_an_agent_closes_their_open_connection_at_once()
    {
        // As shipped, a node re-checks its hub connections every 10 s; here as long as a test can wait, so only the
        // change itself can close the connection in time.
        using var node = App.WithWebHostBuilder(b => b.UseSetting("Identity:SessionRecheckSeconds", "600").UseSetting("Realtime:HubRecheckSeconds", "600"));
        await using var agent = node.AgentHub((await App.PatAsync("agent2@prodesk.test")).Secret, webSocket: true);  // acme, northwind
        var closed = agent.ClosedAsync();
        await agent.StartAsync();
        // StartAsync returns at the handshake, before the hub has taken the connection in; a call is answered after.
        await agent.InvokeAsync("SetStatus", "Online");

        var admin = node.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var bea = await App.UserAsync("agent2@prodesk.test");
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/staff/{bea.Id}/tenants", new { tenants = new[] { "northwind" } })).StatusCode);

        await closed.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HubConnectionState.Disconnected, agent.State);
    }

    [Fact]
    public async Task Signing_out_closes_the_console_opened_in_that_browser_session_at_once()
    {
        using var node = App.WithWebHostBuilder(b => b.UseSetting("Identity:SessionRecheckSeconds", "600").UseSetting("Realtime:HubRecheckSeconds", "600"));
        var browser = node.Client();
        var login = await browser.PostLoginAsync("agent2@prodesk.test", Browserless.DemoPassword);
        var cookie = Browserless.SessionCookie(login);
        await using var console = node.AgentHubWithCookie(cookie);
        var closed = console.ClosedAsync();
        await console.StartAsync();
        await console.InvokeAsync("SetStatus", "Online");

        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostLogoutAsync()).StatusCode);

        await closed.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HubConnectionState.Disconnected, console.State);
    }

    [Fact]
    public async Task A_client_taken_from_an_agent_leaves_their_console_at_once_and_they_stay_signed_in_without_it()
    {
        // Browser sessions re-read their user every 10 minutes here: only the assignment itself can bring the change in time.
        using var node = App.WithWebHostBuilder(b => b.UseSetting("Identity:SessionRecheckSeconds", "600").UseSetting("Realtime:HubRecheckSeconds", "600"));
        var browser = node.Client();
        var cookie = Browserless.SessionCookie(await browser.PostLoginAsync("agent3@prodesk.test", Browserless.DemoPassword));  // merlion, sla-lab
        await using var console = node.AgentHubWithCookie(cookie);
        var closed = console.ClosedAsync();
        await console.StartAsync();
        await console.InvokeAsync("SetStatus", "Online");
        var slaLabItem = await (await App.IntegrationClientAsync("sla-lab")).CreateConversationAsync("sla-lab", "taken-away-1");
        await console.InvokeAsync("Watch", "sla-lab", slaLabItem);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);

        var admin = node.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var agent = await App.UserAsync("agent3@prodesk.test");
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agent.Id}/tenants", new { tenants = new[] { "merlion", "acme" } })).StatusCode);

        // The live feed of a client taken away ends at once; the console reconnects in the same session, with acme and without sla-lab.
        await closed.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/agent")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync("/api/v1/tenants/sla-lab/work-items")).StatusCode);
        await using var again = node.AgentHubWithCookie(cookie);
        await again.StartAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() => again.InvokeAsync("Watch", "sla-lab", slaLabItem));
        Assert.Contains("Not found.", refused.Message, StringComparison.Ordinal);
        Assert.Equal(agent.SecurityStamp, (await App.UserAsync("agent3@prodesk.test")).SecurityStamp);
    }

    [Fact]
    public async Task A_client_given_to_an_agent_reaches_their_session_and_token_at_once_and_signs_nobody_out()
    {
        using var node = App.WithWebHostBuilder(b => b.UseSetting("Identity:SessionRecheckSeconds", "600").UseSetting("Realtime:HubRecheckSeconds", "600"));
        var browser = node.Client();
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostLoginAsync("agent3@prodesk.test", Browserless.DemoPassword)).StatusCode);
        var token = (await App.PatAsync("agent3@prodesk.test")).Secret;
        var pat = node.CreateClient().WithBearer(token);

        var admin = node.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var agent = await App.UserAsync("agent3@prodesk.test");
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agent.Id}/tenants", new { tenants = new[] { "merlion", "sla-lab", "acme" } })).StatusCode);

        // The session and the token see acme at once, and still their other clients.
        foreach (var caller in new[] { browser, pat })
        {
            Assert.Equal(HttpStatusCode.OK, (await caller.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await caller.GetAsync("/api/v1/tenants/sla-lab/work-items")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/agent")).StatusCode);
    }

    [Fact]
    public async Task Client_users_cannot_connect_to_the_agent_hub()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync("admin@acme.test"));
    }
    [Fact]
    public async Task A_long_polling_connection_answers_only_the_user_who_opened_it()
    {
        // The connection token travels in every poll's URL; another agent who learns it must not read the events.
        var agent2 = App.CreateClient().WithBearer((await App.PatAsync("agent2@prodesk.test")).Secret);
        var negotiated = await agent2.PostAsync("/hubs/agent/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.OK, negotiated.StatusCode);
        var token = System.Text.Json.JsonDocument.Parse(await negotiated.Content.ReadAsStringAsync()).RootElement.GetProperty("connectionToken").GetString();
        var handshake = await agent2.PostAsync($"/hubs/agent?id={token}", new StringContent("{\"protocol\":\"json\",\"version\":1}\u001e"));
        Assert.Equal(HttpStatusCode.OK, handshake.StatusCode);

        var agent3 = App.CreateClient().WithBearer((await App.PatAsync("agent3@prodesk.test")).Secret);
        Assert.Equal(HttpStatusCode.NotFound, (await agent3.GetAsync($"/hubs/agent?id={token}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await agent3.PostAsync($"/hubs/agent?id={token}",
            new StringContent("{\"type\":1,\"invocationId\":\"9\",\"target\":\"Unwatch\",\"arguments\":[]}\u001e"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.CreateClient().GetAsync($"/hubs/agent?id={token}")).StatusCode);

        // Its owner still polls.
        Assert.Equal(HttpStatusCode.OK, (await agent2.GetAsync($"/hubs/agent?id={token}")).StatusCode);
    }

    [Fact]
    public async Task A_user_holds_at_most_the_set_number_of_agent_hub_connections_and_a_closed_one_frees_its_place()
    {
        using var node = App.WithWebHostBuilder(b => b.UseSetting("Realtime:AgentConnectionsPerUser", "2"));
        var token = (await App.PatAsync("agent2@prodesk.test")).Secret;
        async Task<HubConnection> OpenAsync(string accessToken)
        {
            var connection = node.AgentHub(accessToken, webSocket: true);
            try
            {
                await connection.StartAsync();
                // StartAsync returns at the handshake; a call is answered only by a connection the hub took in.
                await connection.InvokeAsync("SetStatus", "Online");
                return connection;
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }

        await using var first = await OpenAsync(token);
        await using var second = await OpenAsync(token);
        // A third with the same user (any token of theirs) is closed before it joins anything: its calls fail.
        await using var third = node.AgentHub((await App.PatAsync("agent2@prodesk.test")).Secret, webSocket: true);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await third.StartAsync();
            await third.InvokeAsync("SetStatus", "Online");
        });

        // A colleague's console is not held back by it.
        await using var colleague = await OpenAsync((await App.PatAsync("agent1@prodesk.test")).Secret);

        // A console closed (a tab, a reload) gives its place back as soon as the node has seen it go.
        await first.StopAsync();
        HubConnection? again = null;
        for (var attempt = 0; again is null && attempt < 200; attempt++)
        {
            try
            {
                again = await OpenAsync(token);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                // The node had not yet seen the first close.
            }
        }

        Assert.NotNull(again);
        await again.DisposeAsync();
    }
}
