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
/// through node A reaches an agent whose console is connected to node B, and a tenant taken from that agent on
/// node A closes their console on node B at once.
/// </summary>
public sealed class ScaleOutTests
{
    [Fact]
    public async Task An_item_created_on_one_node_reaches_an_agent_connected_to_another_and_a_change_to_them_closes_it()
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
                // Re-check intervals as long as a test can wait: only the change itself can close node B's connection in time.
                ["Identity__SessionRecheckSeconds"] = "600",
                ["Realtime__HubRecheckSeconds"] = "600",
            };
            await using var nodeA = await AppNode.StartAsync(environment, TimeSpan.FromSeconds(90));
            await using var nodeB = await AppNode.StartAsync(environment, TimeSpan.FromSeconds(90));

            var cli = new Dictionary<string, string?>
            {
                ["Database__Provider"] = "Postgres",
                ["ConnectionStrings__ProDesk"] = database.AppConnectionString,
            };
            var token = await CliProcess.RunAsync(cli, "token", "create", "--email", "agent2@prodesk.test");
            Assert.True(token.ExitCode == 0, token.StandardError);

            var created = Channel.CreateUnbounded<WorkItemEvent>();
            await using var console = new HubConnectionBuilder()
                .WithUrl(new Uri(nodeB.BaseAddress, $"hubs/agent?access_token={token.StandardOutput.Trim()}"), o => o.Transports = HttpTransportType.WebSockets | HttpTransportType.LongPolling)
                .Build();
            console.On<WorkItemEvent>(nameof(IAgentClient.WorkItemCreated), e => created.Writer.TryWrite(e));
            var closed = new TaskCompletionSource();
            console.Closed += _ =>
            {
                closed.TrySetResult();
                return Task.CompletedTask;
            };
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

            var adminToken = await CliProcess.RunAsync(cli, "token", "create", "--email", "admin@prodesk.test");
            Assert.True(adminToken.ExitCode == 0, adminToken.StandardError);
            using var admin = new HttpClient { BaseAddress = nodeA.BaseAddress };
            admin.DefaultRequestHeaders.Authorization = new("Bearer", adminToken.StandardOutput.Trim());
            var staff = JsonDocument.Parse(await admin.GetStringAsync("api/v1/admin/staff/")).RootElement.EnumerateArray()
                .Single(m => m.GetProperty("email").GetString() == "agent2@prodesk.test").GetProperty("id").GetGuid();
            Assert.True((await admin.PutAsJsonAsync($"api/v1/admin/staff/{staff}/tenants", new { tenants = new[] { "northwind" } })).IsSuccessStatusCode);
            await closed.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(database.Name);
        }
    }
}
