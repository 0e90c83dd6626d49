using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.Http.Connections;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

public sealed class AttachmentsAndTagsTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<(HttpClient Client, Guid Id)> ItemAsync(string slug, string externalId = "att-1")
    {
        var client = App.CreateClient().WithBearer((await App.ClientCredentialsAsync($"{slug}-integration", Browserless.DemoSecret(slug))).GetProperty("access_token").GetString()!);
        var response = await client.PostAsJsonAsync($"/api/v1/tenants/{slug}/conversations", new { from = "c@example.fr", subject = "With files", body = "See attached", externalId });
        return (client, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task A_file_is_stored_under_its_id_and_always_downloaded_never_rendered()
    {
        var (client, id) = await ItemAsync("acme");
        var html = "<script>alert(1)</script>"u8.ToArray();
        var form = new MultipartFormDataContent { { new ByteArrayContent(html) { Headers = { ContentType = new("text/html") } }, "file", "../../etc/passwd<evil>.html" } };
        var upload = await client.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments", form);
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var attachment = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("passwdevil.html", attachment.GetProperty("fileName").GetString());

        var download = await client.GetAsync(upload.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(html, await download.Content.ReadAsByteArrayAsync());

        var item = await client.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        Assert.Equal(html.Length, item.GetProperty("attachments")[0].GetProperty("length").GetInt64());
    }

    [Fact]
    public async Task Empty_and_oversized_files_are_refused_with_the_field_named()
    {
        var (client, id) = await ItemAsync("acme");
        var empty = await client.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments", new MultipartFormDataContent { { new ByteArrayContent([]), "file", "empty.txt" } });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("\"file\"", await empty.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var none = await client.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments", new MultipartFormDataContent { { new StringContent("x"), "other" } });
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);

        var huge = new byte[26 * 1024 * 1024];
        var tooBig = await client.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments", new MultipartFormDataContent { { new ByteArrayContent(huge), "file", "huge.bin" } });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
    }

    [Fact]
    public async Task Agents_tag_items_and_bad_tags_are_refused()
    {
        var (_, id) = await ItemAsync("acme");
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var ok = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/tags", new { tags = new[] { "VIP", "plumbing", "vip" } });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(["vip", "plumbing"], JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        var bad = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/tags", new { tags = new[] { "fine", "<b>bold</b>" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("tags[1]", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_least_loaded_queue_pushes_new_work_to_the_online_agent_with_the_most_room()
    {
        // northwind's support queue is LeastLoaded in the demo seed; agent2 and agent4 serve northwind.
        var busy = await ConnectAsync("agent2@prodesk.test");
        var (client, first) = await ItemAsync("northwind", "push-1");
        var firstItem = await client.JsonAsync($"/api/v1/tenants/northwind/work-items/{first}");
        var agent2 = (await App.UserAsync("agent2@prodesk.test")).Id;
        Assert.Equal(agent2, firstItem.GetProperty("item").GetProperty("assigneeId").GetGuid());

        await using var idle = await ConnectAsync("agent4@prodesk.test");
        var (_, second) = await ItemAsync("northwind", "push-2");
        var secondItem = await client.JsonAsync($"/api/v1/tenants/northwind/work-items/{second}");
        Assert.Equal((await App.UserAsync("agent4@prodesk.test")).Id, secondItem.GetProperty("item").GetProperty("assigneeId").GetGuid());
        await busy.DisposeAsync();

        // With nobody online, work waits in the queue for pull.
        await idle.DisposeAsync();
        var (_, third) = await ItemAsync("northwind", "push-3");
        Assert.Equal(JsonValueKind.Null, (await client.JsonAsync($"/api/v1/tenants/northwind/work-items/{third}")).GetProperty("item").GetProperty("assigneeId").ValueKind);
    }

    private async Task<HubConnection> ConnectAsync(string email)
    {
        var token = (await App.PatAsync(email)).Secret;
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(App.Server.BaseAddress, $"{AgentHub.Path.TrimStart('/')}?access_token={token}"), o =>
            {
                o.Transports = HttpTransportType.LongPolling;
                o.HttpMessageHandlerFactory = _ => App.Server.CreateHandler();
            })
            .Build();
        await connection.StartAsync();
        return connection;
    }
}
