using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tests.Infrastructure;
using AppNode = ProDesk.Testing.AppProcess;

namespace ProDesk.Web.Tests.Features.Realtime;

/// <summary>
/// Two real app processes on loopback, sharing one PostgreSQL database and Redis: an item created
/// through node A reaches an agent whose console is connected to node B.
/// </summary>
public sealed class ScaleOutTests
{
    [Fact]
    public async Task An_item_created_on_one_node_reaches_an_agent_connected_to_another()
    {
        var database = await PostgresServer.CreateDatabaseAsync();
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development",
                ["Database__Provider"] = "Postgres",
                ["ConnectionStrings__ProDesk"] = database.AppConnectionString,
                ["ConnectionStrings__Redis"] = RedisServer.ConnectionString,
                ["ProDesk__SeedDirectory"] = Repository.SeedDirectory,
            };
            await using var nodeA = await AppNode.StartAsync(environment, TimeSpan.FromSeconds(90));
            await using var nodeB = await AppNode.StartAsync(environment, TimeSpan.FromSeconds(90));

            var token = await CliProcess.RunAsync(new Dictionary<string, string?>
            {
                ["Database__Provider"] = "Postgres",
                ["ConnectionStrings__ProDesk"] = database.AppConnectionString,
            }, "token", "create", "--email", "agent2@prodesk.test");
            Assert.True(token.ExitCode == 0, token.StandardError);

            var created = Channel.CreateUnbounded<WorkItemEvent>();
            await using var console = new HubConnectionBuilder()
                .WithUrl(new Uri(nodeB.BaseAddress, $"hubs/agent?access_token={token.StandardOutput.Trim()}"), o => o.Transports = HttpTransportType.WebSockets | HttpTransportType.LongPolling)
                .Build();
            console.On<WorkItemEvent>(nameof(IAgentClient.WorkItemCreated), e => created.Writer.TryWrite(e));
            await console.StartAsync();

            using var http = new HttpClient { BaseAddress = nodeA.BaseAddress };
            var grant = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = "acme-integration", ["client_secret"] = Browserless.DemoSecret("acme"), ["scope"] = "api",
            }));
            http.DefaultRequestHeaders.Authorization = new("Bearer", JsonDocument.Parse(await grant.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString());
            var response = await http.PostAsJsonAsync("api/v1/tenants/acme/conversations", new { from = "c@example.fr", subject = "Across nodes", body = "b", externalId = "scale-1" });
            response.EnsureSuccessStatusCode();
            var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();

            var seen = await created.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(("acme", id, "Across nodes"), (seen.Tenant, seen.Id, seen.Subject));
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(database.Name);
        }
    }
}
