using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Realtime;

/// <summary>
/// Two nodes on the same PostgreSQL database and Redis: node A is the shared app, node B a second
/// host in this process. Presence is one view for the cluster, so what an agent does through node B
/// shows on node A's wallboard and counts for node A's push routing.
/// </summary>
public sealed partial class ClusterPresenceTests(ProDeskApp app) : PostgresTest(app)
{
    private sealed record AgentRow(string Name, string Status, string On);

    [Fact]
    public async Task An_agent_on_another_node_shows_on_this_nodes_wallboard_with_its_status_and_item_until_it_leaves()
    {
        await using var nodeB = OtherNode();
        var wallboard = await App.SignedInAsync("supervisor@prodesk.test");
        Assert.Empty(await AgentsAsync(wallboard));
        var item = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "cluster-1", "Boiler noise");

        var console = await ConnectAsync(nodeB, "agent2@prodesk.test");
        Assert.Equal([new AgentRow("Bea Dubois", "Online", "—")], await EventuallyAsync(wallboard, rows => rows.Count > 0));

        // A hub call returns after its write, so node A's next read has it: no waiting.
        await console.InvokeAsync("SetStatus", "Away");
        await console.InvokeAsync("Watch", "acme", item);
        Assert.Equal([new AgentRow("Bea Dubois", "Away", "Boiler noise")], await AgentsAsync(wallboard));

        await console.DisposeAsync();
        Assert.Equal([new AgentRow("Bea Dubois", "Offline", "—")], await EventuallyAsync(wallboard, rows => rows.All(r => r.Status == "Offline")));
    }

    [Fact]
    public async Task Push_routing_on_this_node_assigns_new_work_to_an_agent_connected_only_to_another()
    {
        // northwind's support queue is LeastLoaded; Dana Brooks (agent4) serves northwind and connects to node B only.
        await using var nodeB = OtherNode();
        await using var console = await ConnectAsync(nodeB, "agent4@prodesk.test");
        // Hub calls run after the connection's own setup, so once this returns the agent is registered.
        await console.InvokeAsync("SetStatus", "Online");
        var integration = await App.IntegrationClientAsync("northwind");

        var pushed = await integration.CreateConversationAsync("northwind", "cluster-push-1");
        Assert.Equal((await App.UserAsync("agent4@prodesk.test")).Id, await AssigneeAsync(integration, pushed));

        // Away on node B: node A stops pushing to her, and new work waits for pull.
        await console.InvokeAsync("SetStatus", "Away");
        var waiting = await integration.CreateConversationAsync("northwind", "cluster-push-2");
        Assert.Null(await AssigneeAsync(integration, waiting));
    }

    private static async Task<Guid?> AssigneeAsync(HttpClient integration, Guid id)
    {
        var assignee = (await integration.JsonAsync($"/api/v1/tenants/northwind/work-items/{id}")).GetProperty("item").GetProperty("assigneeId");
        return assignee.ValueKind == JsonValueKind.Null ? null : assignee.GetGuid();
    }

    /// <summary>A console's hub connection to <paramref name="node"/>, as the user of a new personal access token.</summary>
    private async Task<HubConnection> ConnectAsync(WebApplicationFactory<Program> node, string email)
    {
        var token = (await App.PatAsync(email)).Secret;
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(node.Server.BaseAddress, $"hubs/agent?access_token={token}"), options =>
            {
                options.Transports = HttpTransportType.LongPolling;
                options.HttpMessageHandlerFactory = _ => node.Server.CreateHandler();
            })
            .Build();
        await connection.StartAsync();
        return connection;
    }

    /// <summary>The agents table of the wallboard, as the supervisor's browser fetches it on every event.</summary>
    private static async Task<List<AgentRow>> AgentsAsync(HttpClient wallboard)
    {
        var html = await wallboard.GetStringAsync("/supervisor?handler=Board");
        var agents = html[html.IndexOf("data-testid=\"agents\"", StringComparison.Ordinal)..];
        return AgentRowElement().Matches(agents)
            .Select(m => new AgentRow(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value), WebUtility.HtmlDecode(m.Groups[3].Value)))
            .ToList();
    }

    /// <summary>
    /// Reads the wallboard until <paramref name="done"/> holds, for what happens after a hub call
    /// has returned (a connection's setup, a disconnect); gives up after 20 s and returns the last read.
    /// </summary>
    private static async Task<List<AgentRow>> EventuallyAsync(HttpClient wallboard, Func<List<AgentRow>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var rows = await AgentsAsync(wallboard);
        while (!done(rows) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            rows = await AgentsAsync(wallboard);
        }

        return rows;
    }

    [GeneratedRegex("<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>")]
    private static partial Regex AgentRowElement();

    /// <summary>Another node of the same deployment: the shared app's settings (same database, same Redis), no jobs of its own.</summary>
    private WebApplicationFactory<Program> OtherNode() => App.WithWebHostBuilder(builder => builder.UseSetting("ProDesk:RunJobs", "false"));
}
