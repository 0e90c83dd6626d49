using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

public sealed class AttachmentsAndTagsTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<(HttpClient Client, Guid Id)> ItemAsync(string slug, string externalId = "att-1")
    {
        var client = await App.IntegrationClientAsync(slug);
        return (client, await client.CreateConversationAsync(slug, externalId, "With files"));
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
    public async Task A_new_file_moves_the_item_on_and_its_download_can_resume_but_is_never_cached()
    {
        var (client, id) = await ItemAsync("acme");
        var loaded = (await client.JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("item").GetProperty("version").GetInt32();
        var bytes = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();
        var upload = await client.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments", new MultipartFormDataContent { { new ByteArrayContent(bytes), "file", "statement.pdf" } });
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);

        // An agent who loaded the item before the file came is asked to look again before replying; the trail names the file.
        var item = await client.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        Assert.Equal(loaded + 1, item.GetProperty("item").GetProperty("version").GetInt32());
        Assert.Contains(item.GetProperty("changes").EnumerateArray(), c => c.GetProperty("field").GetString() == "attachment" && c.GetProperty("to").GetString() == "statement.pdf");

        var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, upload.Headers.Location));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        Assert.Equal("bytes", head.Headers.AcceptRanges.Single());
        Assert.True(head.Headers.CacheControl is { Private: true, NoStore: true }, head.Headers.CacheControl?.ToString());

        using var rest = new HttpRequestMessage(HttpMethod.Get, upload.Headers.Location);
        rest.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(9_000, null);
        rest.Headers.IfRange = new System.Net.Http.Headers.RangeConditionHeaderValue(head.Headers.ETag!);
        var resumed = await client.SendAsync(rest);
        Assert.Equal(HttpStatusCode.PartialContent, resumed.StatusCode);
        Assert.Equal(bytes[9_000..], await resumed.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Files_staff_add_are_internal_like_notes_and_the_client_company_neither_lists_nor_downloads_them()
    {
        var (integration, id) = await ItemAsync("acme", "internal-files");
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var clientAdmin = App.CreateClient().WithBearer((await App.PatAsync("admin@acme.test")).Secret);
        var viewer = App.CreateClient().WithBearer((await App.PatAsync("viewer@acme.test")).Secret);
        async Task<Uri> UploadAsync(HttpClient client, string name)
        {
            var upload = await client.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments",
                new MultipartFormDataContent { { new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes($"bytes of {name}")), "file", name } });
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
            return upload.Headers.Location!;
        }

        var margins = await UploadAsync(agent, "margins-internal.txt");
        var fromSystem = await UploadAsync(integration, "purchase-order.pdf");
        var fromAdmin = await UploadAsync(clientAdmin, "site-plan.pdf");
        // A note's own file (a note carries no upload of the API's yet; written as a channel would write one).
        var note = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/notes", new { body = "Margin sheet attached." });
        Assert.Equal(HttpStatusCode.OK, note.StatusCode);
        var paths = App.Services.GetRequiredService<ProDesk.Web.Hosting.ProDeskPaths>();
        var noteFile = await App.InTenantAsync("acme", async db =>
        {
            var message = await db.WorkItemMessages.SingleAsync(m => m.WorkItemId == id && m.Kind == ProDesk.Data.WorkItems.MessageKind.Note);
            var file = new ProDesk.Data.WorkItems.WorkItemAttachment
            {
                Id = Guid.CreateVersion7(), TenantId = message.TenantId, WorkItemId = id, WorkItemMessageId = message.Id,
                FileName = "rota.xlsx", ContentType = "application/octet-stream", Length = 4, Sha256 = [], CreatedAt = DateTime.UtcNow,
            };
            using var bytes = new MemoryStream("rota"u8.ToArray());
            (_, file.Sha256) = await ProDesk.Web.WorkItems.Attachments.WriteBlobAsync(paths, message.TenantId, file.Id, bytes, default);
            db.WorkItemAttachments.Add(file);
            await db.SaveChangesAsync();
            return new Uri($"/api/v1/tenants/acme/work-items/{id}/attachments/{file.Id}", UriKind.Relative);
        });

        static string[] Files(JsonElement item) => [.. item.GetProperty("attachments").EnumerateArray().Select(a => a.GetProperty("fileName").GetString()!).Order()];
        static string[] Uploads(JsonElement item) => [.. item.GetProperty("changes").EnumerateArray()
            .Where(c => c.GetProperty("field").GetString() == "attachment").Select(c => c.GetProperty("to").GetString()!).Order()];

        // Staff see every file and every upload in the trail.
        var staffView = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        Assert.Equal(["margins-internal.txt", "purchase-order.pdf", "rota.xlsx", "site-plan.pdf"], Files(staffView));
        Assert.Equal(["margins-internal.txt", "purchase-order.pdf", "site-plan.pdf"], Uploads(staffView));
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync(margins)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync(noteFile)).StatusCode);

        // The client company's viewer, admin and system see their own files, never the provider's.
        foreach (var client in new[] { viewer, clientAdmin, integration })
        {
            var item = await client.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
            Assert.Equal(["purchase-order.pdf", "site-plan.pdf"], Files(item));
            Assert.Equal(["purchase-order.pdf", "site-plan.pdf"], Uploads(item));
            Assert.DoesNotContain("agent1@prodesk.test", item.GetProperty("changes").GetRawText(), StringComparison.Ordinal);
            foreach (var hidden in new[] { margins, noteFile })
            {
                var download = await client.GetAsync(hidden);
                Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
                Assert.DoesNotContain("bytes of", await download.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            Assert.Equal("bytes of purchase-order.pdf", await (await client.GetAsync(fromSystem)).Content.ReadAsStringAsync());
            Assert.Equal("bytes of site-plan.pdf", await (await client.GetAsync(fromAdmin)).Content.ReadAsStringAsync());
        }
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

        // Two files in one request: the second is not dropped without a word.
        var two = await client.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments", new MultipartFormDataContent
        {
            { new ByteArrayContent("one"u8.ToArray()), "file", "one.txt" },
            { new ByteArrayContent("two"u8.ToArray()), "file", "two.txt" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, two.StatusCode);
        Assert.Contains("one file per request", await two.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty((await client.JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("attachments").EnumerateArray());

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

        // A body without the list is a mistake, not "remove every tag" (that is an empty list).
        var missing = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/tags", new { });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("\"tags\"", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["vip", "plumbing"], await App.InTenantAsync("acme", db => db.WorkItems.Where(w => w.Id == id).Select(w => w.Tags).SingleAsync()));
    }

    [Fact]
    public async Task Agents_setting_different_fields_at_once_each_keep_theirs()
    {
        var (_, id) = await ItemAsync("acme", "fields-race");
        var agents = await Task.WhenAll(new[] { "agent1@prodesk.test", "agent2@prodesk.test", "supervisor@prodesk.test", "agent1@prodesk.test" }
            .Select(async email => App.CreateClient().WithBearer((await App.PatAsync(email)).Secret)));
        for (var round = 1; round <= 5; round++)
        {
            var values = new Dictionary<string, object>
            {
                ["contract-number"] = $"C-{round}", ["estimate"] = round * 10, ["visit-date"] = $"2026-12-0{round}", ["property-type"] = round % 2 == 0 ? "house" : "office",
            };
            var answers = await Task.WhenAll(values.Select((field, i) =>
                agents[i].PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/fields", new { fields = new Dictionary<string, object> { [field.Key] = field.Value } })));
            Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));

            var fields = (await agents[0].JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("fields");
            Assert.Equal($"C-{round}", fields.GetProperty("contract-number").GetString());
            Assert.Equal(round * 10, fields.GetProperty("estimate").GetDecimal());
            Assert.Equal($"2026-12-0{round}", fields.GetProperty("visit-date").GetString());
            Assert.Equal(round % 2 == 0 ? "house" : "office", fields.GetProperty("property-type").GetString());
        }
    }

    [Fact]
    public async Task A_field_value_that_is_no_text_is_refused_naming_the_field()
    {
        var (_, id) = await ItemAsync("acme", "fields-surrogate");
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        foreach (var field in new[] { "contract-number", "visit-date", "property-type" })
        {
            var answer = await agent.PutAsync($"/api/v1/tenants/acme/work-items/{id}/fields",
                new StringContent($"{{\"fields\":{{\"{field}\":\"\\ud800\"}}}}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
            Assert.True(JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty($"fields.{field}", out _));
        }
    }

    [Theory]
    [InlineData("text/pl\0ain")]
    [InlineData("text/plain; charset=\"utf-8\"")]
    [InlineData("nonsense")]
    public async Task An_uploaded_files_odd_declared_type_is_stored_as_octet_stream_or_its_plain_type(string declared)
    {
        var (client, id) = await ItemAsync("acme", $"type-{declared.Length}");
        // Written by hand: HttpClient itself would refuse to send a NUL in a header.
        var body = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(
            $"--b1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"note.txt\"\r\nContent-Type: {declared}\r\n\r\nhello\r\n--b1--\r\n"));
        body.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b1");
        var upload = await client.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments", body);
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var stored = JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("contentType").GetString();
        Assert.Equal(declared.StartsWith("text/plain;", StringComparison.Ordinal) ? "text/plain" : "application/octet-stream", stored);
    }

    [Fact]
    public async Task Custom_fields_follow_the_clients_definitions_and_every_change_is_in_the_trail()
    {
        var (_, id) = await ItemAsync("acme", "fields-1");
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var ok = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/fields", new { fields = new Dictionary<string, object?> { ["contract-number"] = "C-1234", ["property-type"] = "house", ["visit-date"] = "2026-12-03", ["estimate"] = 180.5 } });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        var bad = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/fields", new { fields = new Dictionary<string, object?> { ["property-type"] = "castle", ["visit-date"] = "next week", ["estimate"] = "lots", ["shoe-size"] = 42 } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["fields.estimate", "fields.property-type", "fields.shoe-size", "fields.visit-date"], errors.EnumerateObject().Select(e => e.Name).Order());

        await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/status", new { status = "OnHold" });
        var item = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        Assert.Equal("house", item.GetProperty("fields").GetProperty("property-type").GetString());
        Assert.Equal(180.5m, item.GetProperty("fields").GetProperty("estimate").GetDecimal());
        var changes = item.GetProperty("changes").EnumerateArray().Select(c => (c.GetProperty("field").GetString(), c.GetProperty("to").GetString())).ToList();
        Assert.Equal(("created", "Open"), changes[0]);
        Assert.Contains(("status", "OnHold"), changes);
        Assert.Contains(changes, c => c.Item1 == "fields");
        Assert.All(item.GetProperty("changes").EnumerateArray().Skip(1), c => Assert.Equal("agent1@prodesk.test", c.GetProperty("actor").GetString()));

        // The agent's item page shows them under the client's labels, beside who the item is from.
        var page = await (await App.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{id}");
        Assert.Contains("<dt>Contract number</dt>", page, StringComparison.Ordinal);
        Assert.Contains("<dd data-testid=\"field\">C-1234</dd>", page, StringComparison.Ordinal);
        Assert.Contains("<dt>Estimate (EUR)</dt>", page, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"contact\"", page, StringComparison.Ordinal);

        // A number too large to keep, or so small it would be kept as 0, is refused saying why; the trail reads as written.
        foreach (var raw in new[] { "1e29", "0.00000000000000000000000000001", "1e-400" })
        {
            var outOfRange = await agent.PutAsync($"/api/v1/tenants/acme/work-items/{id}/fields",
                new StringContent($"{{\"fields\":{{\"estimate\":{raw}}}}}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, outOfRange.StatusCode);
            Assert.Contains("at most 28 decimal places", await outOfRange.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        (await agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/fields", new { fields = new Dictionary<string, object?> { ["contract-number"] = "é日本" } })).EnsureSuccessStatusCode();
        var trail = (await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("changes").EnumerateArray().Last(c => c.GetProperty("field").GetString() == "fields");
        Assert.Contains("\"contract-number\":\"é日本\"", trail.GetProperty("to").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_agents_with_a_queues_skills_claim_its_work()
    {
        // acme's support queue needs French; the supervisor serves every tenant but lists no skills.
        await ItemAsync("acme", "skills-1");
        var supervisor = App.CreateClient().WithBearer((await App.PatAsync("supervisor@prodesk.test")).Secret);
        Assert.Equal(HttpStatusCode.NoContent, (await supervisor.PostAsync("/api/v1/work/next", null)).StatusCode);
        var bea = App.CreateClient().WithBearer((await App.PatAsync("agent2@prodesk.test")).Secret);
        Assert.Equal(HttpStatusCode.OK, (await bea.PostAsync("/api/v1/work/next", null)).StatusCode);
    }

    [Fact]
    public async Task A_least_loaded_queue_pushes_new_work_to_the_online_agent_with_the_most_room_never_to_a_supervisor()
    {
        // northwind's support queue is LeastLoaded in the demo seed; agent2 and agent4 serve northwind.
        var busy = await App.AgentHubAsync("agent2@prodesk.test");
        var (client, first) = await ItemAsync("northwind", "push-1");
        var firstItem = await client.JsonAsync($"/api/v1/tenants/northwind/work-items/{first}");
        var agent2 = (await App.UserAsync("agent2@prodesk.test")).Id;
        Assert.Equal(agent2, firstItem.GetProperty("item").GetProperty("assigneeId").GetGuid());

        await using var idle = await App.AgentHubAsync("agent4@prodesk.test");
        var (_, second) = await ItemAsync("northwind", "push-2");
        var secondItem = await client.JsonAsync($"/api/v1/tenants/northwind/work-items/{second}");
        Assert.Equal((await App.UserAsync("agent4@prodesk.test")).Id, secondItem.GetProperty("item").GetProperty("assigneeId").GetGuid());
        await busy.DisposeAsync();

        // With nobody online, work waits in the queue for pull: a supervisor on the wallboard takes no work (probe round 19).
        await idle.DisposeAsync();
        await using var wallboard = await App.AgentHubAsync("supervisor@prodesk.test");
        await wallboard.InvokeAsync("SetStatus", "Online");
        var (_, third) = await ItemAsync("northwind", "push-3");
        Assert.Equal(JsonValueKind.Null, (await client.JsonAsync($"/api/v1/tenants/northwind/work-items/{third}")).GetProperty("item").GetProperty("assigneeId").ValueKind);
    }
}
