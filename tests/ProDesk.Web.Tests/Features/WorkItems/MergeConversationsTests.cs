using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Channels;
using ProDesk.Web.Tenancy;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>Two conversations about one thing become one: the thread moves with its times, the duplicate closes and says where it went.</summary>
public sealed class MergeConversationsTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<HttpClient> AgentAsync(string email = "agent2@prodesk.test") =>
        App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);

    private async Task<Guid> IngestAsync(string slug, InboundMessage message)
    {
        using (TenantScopes.Enter(await App.ScopeAsync(slug)))
        {
            await using var scope = App.Services.CreateAsyncScope();
            return (await scope.ServiceProvider.GetRequiredService<IngestMessage>().HandleAsync(message, CancellationToken.None)).Item.Id;
        }
    }

    private static InboundMessage Mail(string subject, string body, string from = "ada@example.com") =>
        new("email", Guid.NewGuid().ToString(), from, "Ada", subject, body) { InternetMessageId = $"{Guid.NewGuid():N}@mail.example.com" };

    private static IEnumerable<string?> Fields(JsonElement item, string name) =>
        item.GetProperty("changes").EnumerateArray().Where(c => c.GetProperty("field").GetString() == name).Select(c => c.GetProperty("to").GetString());

    [Fact]
    public async Task Merging_moves_messages_and_attachments_keeping_their_times_and_closes_the_other_with_a_note()
    {
        var agent = await AgentAsync();
        var target = await IngestAsync("acme", Mail("Leaking tap", "The kitchen tap drips."));
        var source = await IngestAsync("acme", Mail("Tap again", "Forgot to say: it is the hot water."));
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{source}/replies", new { body = "Which floor?" })).EnsureSuccessStatusCode();
        var upload = await agent.PostAsync($"/api/v1/tenants/acme/work-items/{source}/attachments", new MultipartFormDataContent { { new ByteArrayContent("photo"u8.ToArray()), "file", "tap.jpg" } });
        upload.EnsureSuccessStatusCode();
        var before = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{source}");
        var movedTimes = before.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("createdAt").GetDateTime()).ToList();

        var merged = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{target}/merge", new { from = source });

        Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        var into = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{target}");
        Assert.Equal(["The kitchen tap drips.", "Forgot to say: it is the hot water.", "Which floor?"],
            into.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("body").GetString()));
        Assert.Equal(movedTimes, into.GetProperty("messages").EnumerateArray().Skip(1).Select(m => m.GetProperty("createdAt").GetDateTime()));
        Assert.Equal(["tap.jpg"], into.GetProperty("attachments").EnumerateArray().Select(a => a.GetProperty("fileName").GetString()));
        var attachmentId = into.GetProperty("attachments")[0].GetProperty("id").GetGuid();
        Assert.Equal("photo", await agent.GetStringAsync($"/api/v1/tenants/acme/work-items/{target}/attachments/{attachmentId}"));
        Assert.Equal([source.ToString()], Fields(into, "merged-from"));
        Assert.Equal(2, into.GetProperty("item").GetProperty("version").GetInt32());

        var closed = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{source}");
        Assert.Equal("Closed", closed.GetProperty("item").GetProperty("status").GetString());
        Assert.Equal([target.ToString()], Fields(closed, "merged-into"));
        Assert.Contains("Closed", Fields(closed, "status"));
        var note = Assert.Single(closed.GetProperty("messages").EnumerateArray());
        Assert.Equal("Note", note.GetProperty("kind").GetString());
        Assert.Contains(target.ToString(), note.GetProperty("body").GetString(), StringComparison.Ordinal);
        Assert.Equal(before.GetProperty("item").GetProperty("version").GetInt32() + 1, closed.GetProperty("item").GetProperty("version").GetInt32());

        // Open consoles of both items hear of it.
        var events = await App.InTenantAsync("acme", db => db.OutboxEvents.AsNoTracking().Where(e => e.Type == "WorkItemUpdated").Select(e => e.PayloadJson).ToListAsync());
        Assert.Contains(events, e => e.Contains(target.ToString(), StringComparison.Ordinal) && e.Contains("\"Version\":2", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Contains(source.ToString(), StringComparison.Ordinal) && e.Contains("\"Closed\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_merged_conversations_clocks_stop_without_counting_it_as_resolved()
    {
        var agent = await AgentAsync();
        var target = await IngestAsync("acme", Mail("Leaking tap", "The kitchen tap drips."));
        var source = await IngestAsync("acme", Mail("Tap again", "Forgot to say: it is the hot water."));

        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{target}/merge", new { from = source })).EnsureSuccessStatusCode();

        // Never answered: closing it by a merge is no resolution a client's report may count as met.
        var kinds = await App.InTenantAsync("acme", db => db.SlaClockEntries.Where(e => e.WorkItemId == source)
            .OrderBy(e => e.Id).Select(e => new { e.Target, e.Kind }).ToListAsync());
        Assert.DoesNotContain(kinds, k => k.Kind == Domain.Sla.SlaClockEventKind.Met);
        Assert.Contains(kinds, k => (k.Target, k.Kind) == (Domain.Sla.SlaTarget.Resolution, Domain.Sla.SlaClockEventKind.Stopped));
    }

    [Theory]
    [InlineData("Solved")]
    [InlineData("Pending")]
    public async Task An_unanswered_question_merged_into_a_solved_or_waiting_conversation_opens_it_again(string targetStatus)
    {
        var agent = await AgentAsync();
        var target = await IngestAsync("acme", Mail("Invoice 2041", "Why twice?"));
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{target}/status", new { status = targetStatus })).EnsureSuccessStatusCode();
        var source = await IngestAsync("acme", Mail("Invoice 2041 again", "Still charged twice, please answer."));

        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{target}/merge", new { from = source })).EnsureSuccessStatusCode();

        // The question is back in the queue, with its clock running, and the trail says why.
        var into = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{target}");
        Assert.Equal("Open", into.GetProperty("item").GetProperty("status").GetString());
        Assert.Equal([targetStatus, "Open"], Fields(into, "status"));
        Assert.Contains(await App.InTenantAsync("acme", db => db.WorkItems.Where(w => w.Status == WorkItemStatus.Open).Select(w => w.Id).ToListAsync()), id => id == target);
    }

    [Fact]
    public async Task A_follow_up_to_the_merged_conversation_lands_in_the_one_it_was_merged_into()
    {
        var agent = await AgentAsync();
        var target = await IngestAsync("acme", Mail("Leaking tap", "Drip drip."));
        var source = await IngestAsync("acme", Mail("Tap", "Still dripping."));
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{target}/merge", new { from = source })).EnsureSuccessStatusCode();

        // A reply to the duplicate's mail names it by its signed reply address.
        var followUp = await IngestAsync("acme", Mail("Re: Tap", "Any news?") with { ThreadItemId = source });

        Assert.Equal(target, followUp);
        var item = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{target}");
        Assert.Equal("Any news?", item.GetProperty("messages").EnumerateArray().Last().GetProperty("body").GetString());
    }

    [Fact]
    public async Task Only_two_open_conversations_of_the_same_tenant_merge_and_a_refusal_changes_nothing()
    {
        var agent = await AgentAsync();
        var acme = await IngestAsync("acme", Mail("Leaking tap", "Drip."));
        var task = await IngestAsync("acme", new InboundMessage("voice", Guid.NewGuid().ToString(), "+33100000000", "Caller", "Call back Mr Smith", "Left a message.")
        {
            FromIsPhone = true, Kind = WorkItemKind.SecretaryTask,
        });
        var northwind = await IngestAsync("northwind", Mail("Northwind only", "Secret.", "bob@example.com"));
        var northwindBefore = (await agent.JsonAsync($"/api/v1/tenants/northwind/work-items/{northwind}")).GetRawText();
        var acmeBefore = (await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{acme}")).GetRawText();

        // agent2 serves both tenants, yet an id of the other tenant is unknown under this one's route, on either side.
        foreach (var (path, from) in new[]
        {
            ($"/api/v1/tenants/acme/work-items/{acme}/merge", northwind),
            ($"/api/v1/tenants/acme/work-items/{northwind}/merge", acme),
            ($"/api/v1/tenants/northwind/work-items/{northwind}/merge", acme),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await agent.PostAsJsonAsync(path, new { from })).StatusCode);
        }

        foreach (var (id, from, field) in new[] { (acme, task, "from"), (task, acme, "id"), (acme, acme, "from") })
        {
            var refused = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/merge", new { from });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True(JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty(field, out _), field);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{acme}/merge", new { from = "not an id" })).StatusCode);
        Assert.Equal(northwindBefore, (await agent.JsonAsync($"/api/v1/tenants/northwind/work-items/{northwind}")).GetRawText());
        Assert.Equal(acmeBefore, (await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{acme}")).GetRawText());
    }
}
