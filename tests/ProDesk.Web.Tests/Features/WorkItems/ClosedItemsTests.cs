using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>
/// Closed is final: reports and billing read a Closed item as done, and a reply would go out on a finished
/// conversation. Replies, notes, tags, fields and files are refused with a 409 that says so; nothing is stored.
/// </summary>
public sealed class ClosedItemsTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task A_closed_item_takes_no_reply_note_tags_fields_or_file_and_nothing_is_stored_and_the_console_says_so()
    {
        var client = await App.IntegrationClientAsync("acme");
        var id = await client.CreateConversationAsync("acme", "closed-1", "Done and dusted");
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        foreach (var status in new[] { "Solved", "Closed" })
        {
            var moved = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/status", new { status });
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        }

        var messagesBefore = await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync(m => m.WorkItemId == id));
        var outboundBefore = await App.InTenantAsync("acme", db => db.OutboundMessages.CountAsync(o => o.WorkItemId == id));
        var attempts = new (string What, Func<Task<HttpResponseMessage>> Send)[]
        {
            ("reply", () => agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "One more thing", force = true })),
            ("note", () => agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/notes", new { body = "Internal" })),
            ("tags", () => agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/tags", new { tags = new[] { "late" } })),
            ("move", () => agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/move", new { queue = "billing", priority = "Urgent" })),
            ("fields", () => agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/fields", new { fields = new Dictionary<string, object?>() })),
            ("file", () => agent.PostAsync($"/api/v1/tenants/acme/work-items/{id}/attachments",
                new MultipartFormDataContent { { new ByteArrayContent("x"u8.ToArray()), "file", "late.txt" } })),
        };

        foreach (var (what, send) in attempts)
        {
            var response = await send();
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Conflict, $"{what}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.Equal("The item is closed", problem.GetProperty("title").GetString());
            Assert.Equal("closed", problem.GetProperty("reason").GetString());
            Assert.Equal("Closed", problem.GetProperty("current").GetProperty("status").GetString());
        }

        Assert.Equal(messagesBefore, await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync(m => m.WorkItemId == id)));
        Assert.Equal(outboundBefore, await App.InTenantAsync("acme", db => db.OutboundMessages.CountAsync(o => o.WorkItemId == id)));
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItemAttachments.CountAsync(a => a.WorkItemId == id)));
        Assert.Empty(await App.InTenantAsync("acme", db => db.WorkItems.Where(w => w.Id == id).Select(w => w.Tags).SingleAsync()));

        // The console says so and offers no reply, tags or upload on it.
        var page = await (await App.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{id}");
        Assert.Contains("data-testid=\"closed-notice\"", page, StringComparison.Ordinal);
        Assert.Contains("<form class=\"stack\" data-reply hidden=\"hidden\">", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_solved_item_still_takes_a_reply()
    {
        var client = await App.IntegrationClientAsync("acme");
        var id = await client.CreateConversationAsync("acme", "solved-1", "Nearly done");
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/status", new { status = "Solved" })).StatusCode);

        var reply = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "Anything else?" });
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
    }
}
