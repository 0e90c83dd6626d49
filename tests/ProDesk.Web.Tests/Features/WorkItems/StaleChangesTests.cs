using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>
/// Every change of an item (and a contact's update) made on a version its caller loaded is refused when a colleague or
/// the customer changed it since, so a stale page never undoes their work; without a version it applies as before.
/// </summary>
public sealed class StaleChangesTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<HttpClient> StaffAsync(string email) => App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static HttpRequestMessage Request(HttpMethod method, string url, object body, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = JsonContent.Create(body) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return request;
    }

    /// <summary>The route's change as the caller sends it, with the version it loaded (or none). Each call makes a change.</summary>
    private async Task<HttpResponseMessage> ChangeAsync(HttpClient agent, string route, Guid id, int? version, int round)
    {
        var item = $"/api/v1/tenants/acme/work-items/{id}";
        return route switch
        {
            "status" => await agent.PostAsJsonAsync($"{item}/status", new { status = new[] { "Solved", "Pending", "OnHold" }[round], version }),
            "tags" => await agent.PutAsJsonAsync($"{item}/tags", new { tags = new[] { $"round-{round}" }, version }),
            "move" => await agent.PostAsJsonAsync($"{item}/move", new { queue = new[] { "billing", "secretary", "invoices" }[round], version }),
            "fields" => await agent.PutAsJsonAsync($"{item}/fields", new { fields = new Dictionary<string, object> { ["contract-number"] = $"C-{round}" }, version }),
            "notes" => await agent.PostAsJsonAsync($"{item}/notes", new { body = $"note {round}", version }),
            "merge" => await agent.PostAsJsonAsync($"{item}/merge", new
            {
                from = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", $"dup-{id}-{round}", "Same leak again"),
                version,
            }),
            _ => throw new ArgumentOutOfRangeException(nameof(route)),
        };
    }

    [Theory]
    [InlineData("status")]
    [InlineData("tags")]
    [InlineData("move")]
    [InlineData("fields")]
    [InlineData("notes")]
    [InlineData("merge")]
    public async Task A_change_made_on_a_stale_version_is_refused_and_changes_nothing_while_a_current_or_no_version_applies(string route)
    {
        var id = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", $"stale-{route}", "Leaking tap");
        var agentA = await StaffAsync("agent1@prodesk.test");
        var agentB = await StaffAsync("agent2@prodesk.test");
        var loaded = (await agentB.JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("item").GetProperty("version").GetInt32();

        // The customer writes again after agent B loaded the item: B's page is stale.
        var customer = await App.IntegrationClientAsync("acme");
        Assert.True((await customer.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
            new { from = "customer@example.com", subject = "Leaking tap", body = "It floods now!", externalId = $"again-{route}", conversationId = id })).IsSuccessStatusCode);
        var before = await agentA.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        var now = before.GetProperty("item").GetProperty("version").GetInt32();
        Assert.True(now > loaded);

        var stale = await ChangeAsync(agentB, route, id, loaded, 0);
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal("application/problem+json", stale.Content.Headers.ContentType?.MediaType);
        var problem = await BodyAsync(stale);
        Assert.Equal("changed", problem.GetProperty("reason").GetString());
        Assert.Equal(now, problem.GetProperty("version").GetInt32());
        Assert.Equal(now, problem.GetProperty("current").GetProperty("version").GetInt32());
        // Nothing changed: not the status (the new message stays unanswered and open), tags, fields, thread or trail.
        var after = await agentA.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        Assert.Equal(before.GetRawText(), after.GetRawText());

        var current = await ChangeAsync(agentB, route, id, now, 1);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.Equal(now + 1, (await BodyAsync(current)).GetProperty("version").GetInt32());
        // No version: the last writer wins, as integrations written before versions expect.
        var unversioned = await ChangeAsync(agentA, route, id, null, 2);
        Assert.Equal(HttpStatusCode.OK, unversioned.StatusCode);
        Assert.Equal(now + 2, (await BodyAsync(unversioned)).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task If_match_with_the_etag_of_the_items_get_guards_a_change_as_a_version_does_and_a_stale_one_is_412()
    {
        var id = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "if-match-1", "Leaking tap");
        var agentA = await StaffAsync("agent1@prodesk.test");
        var agentB = await StaffAsync("agent2@prodesk.test");
        var url = $"/api/v1/tenants/acme/work-items/{id}";
        var get = await agentB.GetAsync(url);
        var etag = get.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.Equal($"\"{(await BodyAsync(get)).GetProperty("item").GetProperty("version").GetInt32()}\"", etag.Tag);

        // Agent A adds "vip"; agent B's tags form, loaded before, would drop it.
        var vip = await agentA.SendAsync(Request(HttpMethod.Put, $"{url}/tags", new { tags = new[] { "base", "vip" } }, etag.Tag));
        Assert.Equal(HttpStatusCode.OK, vip.StatusCode);
        var newTag = vip.Headers.ETag?.Tag;
        Assert.NotEqual(etag.Tag, newTag);
        var lost = await agentB.SendAsync(Request(HttpMethod.Put, $"{url}/tags", new { tags = new[] { "base", "refund" } }, etag.Tag));
        Assert.Equal(HttpStatusCode.PreconditionFailed, lost.StatusCode);
        Assert.Equal("changed", (await BodyAsync(lost)).GetProperty("reason").GetString());
        Assert.Equal(newTag, lost.Headers.ETag?.Tag);
        Assert.Equal(["base", "vip"], (await agentA.JsonAsync(url)).GetProperty("item").GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        // A file on a stale tag is refused too, and nothing is stored.
        var form = new MultipartFormDataContent { { new ByteArrayContent("hello"u8.ToArray()) { Headers = { ContentType = new("text/plain") } }, "file", "a.txt" } };
        using var upload = new HttpRequestMessage(HttpMethod.Post, $"{url}/attachments") { Content = form };
        upload.Headers.TryAddWithoutValidation("If-Match", etag.Tag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await agentB.SendAsync(upload)).StatusCode);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItemAttachments.CountAsync(a => a.WorkItemId == id)));

        // A weak or foreign tag never matches (strong comparison); "*" matches any version; a tag beside another
        // version in the body is the caller's mistake.
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await agentB.SendAsync(Request(HttpMethod.Post, $"{url}/status", new { status = "Solved" }, $"W/{newTag}"))).StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await agentB.SendAsync(Request(HttpMethod.Post, $"{url}/status", new { status = "Solved" }, "\"abc\""))).StatusCode);
        var both = await agentB.SendAsync(Request(HttpMethod.Post, $"{url}/status", new { status = "Solved", version = 1 }, newTag));
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.True((await BodyAsync(both)).GetProperty("errors").TryGetProperty("version", out _));
        Assert.Equal(HttpStatusCode.BadRequest, (await agentB.SendAsync(Request(HttpMethod.Post, $"{url}/status", new { status = "Solved" }, "7"))).StatusCode);
        Assert.Equal("Open", (await agentA.JsonAsync(url)).GetProperty("item").GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.OK, (await agentB.SendAsync(Request(HttpMethod.Post, $"{url}/status", new { status = "Pending" }, newTag))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agentB.SendAsync(Request(HttpMethod.Post, $"{url}/status", new { status = "OnHold" }, "*"))).StatusCode);
    }

    [Fact]
    public async Task A_contact_saved_from_a_form_loaded_before_a_colleagues_edit_is_refused_and_keeps_the_edit()
    {
        var item = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "contact-stale-1", "Leaking tap");
        var contactId = await App.InTenantAsync("acme", db => db.WorkItems.Where(w => w.Id == item).Select(w => w.ContactId!.Value).SingleAsync());
        var agentA = await StaffAsync("agent1@prodesk.test");
        var agentB = await StaffAsync("agent2@prodesk.test");
        var url = $"/api/v1/tenants/acme/contacts/{contactId}";
        var get = await agentB.GetAsync(url);
        var loaded = (await BodyAsync(get)).GetProperty("contact");
        var version = loaded.GetProperty("version").GetInt32();
        Assert.Equal($"\"{version}\"", get.Headers.ETag?.Tag);
        var email = loaded.GetProperty("email").GetString();

        var phone = await agentA.PutAsJsonAsync(url, new { name = "Marie Curie", email, phone = "+33 6 08 64 41 30", version });
        Assert.Equal(HttpStatusCode.OK, phone.StatusCode);
        Assert.Equal(version + 1, (await BodyAsync(phone)).GetProperty("contact").GetProperty("version").GetInt32());

        // Agent B's form still has no phone: saving it would clear agent A's.
        var stale = await agentB.PutAsJsonAsync(url, new { name = "Marie Curie", email, company = "Leroy SARL", version });
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        var problem = await BodyAsync(stale);
        Assert.Equal("changed", problem.GetProperty("reason").GetString());
        Assert.Equal("+33608644130", problem.GetProperty("current").GetProperty("phone").GetString());
        using (var ifMatch = Request(HttpMethod.Put, url, new { name = "Marie Curie", email, company = "Leroy SARL" }, $"\"{version}\""))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, (await agentB.SendAsync(ifMatch)).StatusCode);
        }

        var kept = (await agentA.JsonAsync(url)).GetProperty("contact");
        Assert.Equal("+33608644130", kept.GetProperty("phone").GetString());
        Assert.Equal(JsonValueKind.Null, kept.GetProperty("company").ValueKind);

        Assert.Equal(HttpStatusCode.OK, (await agentB.PutAsJsonAsync(url, new { name = "Marie Curie", email, phone = "+33608644130", company = "Leroy SARL", version = version + 1 })).StatusCode);
        // No version: the whole contact is replaced, as before.
        Assert.Equal(HttpStatusCode.OK, (await agentA.PutAsJsonAsync(url, new { name = "Marie Curie", email })).StatusCode);
        Assert.Equal(version + 3, (await agentA.JsonAsync(url)).GetProperty("contact").GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task A_reply_retried_with_its_idempotency_key_is_sent_once_and_the_key_with_other_words_is_422()
    {
        var id = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "idempotent-1", "Leaking tap");
        var agent = await StaffAsync("agent1@prodesk.test");
        var url = $"/api/v1/tenants/acme/work-items/{id}/replies";
        HttpRequestMessage Reply(string body, string key)
        {
            var request = Request(HttpMethod.Post, url, new { body });
            request.Headers.Add("Idempotency-Key", key);
            return request;
        }

        var first = await agent.SendAsync(Reply("The plumber comes at 3pm.", "retry-key-1"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        // The client timed out and sends again, three times at once.
        var retries = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => agent.SendAsync(Reply("The plumber comes at 3pm.", "retry-key-1"))));
        Assert.All(retries, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(retries, r => Assert.Equal("true", r.Headers.GetValues("Idempotent-Replayed").Single()));

        var other = await agent.SendAsync(Reply("Something else entirely.", "retry-key-1"));
        Assert.Equal((HttpStatusCode)422, other.StatusCode);
        Assert.Contains("Idempotency-Key", await other.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync(m => m.WorkItemId == id && m.Kind == ProDesk.Data.WorkItems.MessageKind.Reply)));
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.OutboundMessages.CountAsync(o => o.WorkItemId == id)));
        // Another key is another reply.
        Assert.Equal(HttpStatusCode.OK, (await agent.SendAsync(Reply("The plumber comes at 3pm.", "retry-key-2"))).StatusCode);
        Assert.Equal(2, await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync(m => m.WorkItemId == id && m.Kind == ProDesk.Data.WorkItems.MessageKind.Reply)));
    }

    [Fact]
    public async Task An_idempotency_key_is_the_callers_own_so_a_colleague_using_the_same_key_is_neither_refused_nor_told_sent()
    {
        var id = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "idempotent-2", "Leaking tap");
        var (agent1, agent2) = (await StaffAsync("agent1@prodesk.test"), await StaffAsync("agent2@prodesk.test"));
        var url = $"/api/v1/tenants/acme/work-items/{id}/replies";
        HttpRequestMessage Reply(string body, string key)
        {
            var request = Request(HttpMethod.Post, url, new { body });
            request.Headers.Add("Idempotency-Key", key);
            return request;
        }

        Assert.Equal(HttpStatusCode.OK, (await agent1.SendAsync(Reply("Reply one from agent1.", "key-123"))).StatusCode);
        // Another agent's tool numbering its keys the same way: its own reply, sent (it was a 422 tenant-wide).
        var own = await agent2.SendAsync(Reply("Agent2's own words.", "key-123"));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.False(own.Headers.Contains("Idempotent-Replayed"));
        // The same words under a key a colleague used: agent2's reply is sent, not answered "sent" for the colleague's.
        Assert.Equal(HttpStatusCode.OK, (await agent1.SendAsync(Reply("The plumber comes at 3pm.", "key-456"))).StatusCode);
        var same = await agent2.SendAsync(Reply("The plumber comes at 3pm.", "key-456"));
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        Assert.False(same.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(4, await App.InTenantAsync("acme", db => db.OutboundMessages.CountAsync(o => o.WorkItemId == id)));

        // Each caller's own key still works as before: a retry replays, other words are 422.
        Assert.Equal("true", (await agent1.SendAsync(Reply("Reply one from agent1.", "key-123"))).Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal((HttpStatusCode)422, (await agent2.SendAsync(Reply("Reply one from agent1.", "key-123"))).StatusCode);
        Assert.Equal(4, await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync(m => m.WorkItemId == id && m.Kind == ProDesk.Data.WorkItems.MessageKind.Reply)));
    }
}
