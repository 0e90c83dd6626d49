using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Domain.Sla;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>The API channel and the item routes of CONTRACT.md, as a client's system and an agent use them.</summary>
public sealed class WorkItemsApiTests(ProDeskApp app) : PostgresTest(app)
{
    private Task<HttpClient> IntegrationAsync(string slug) => App.IntegrationClientAsync(slug);

    private async Task<HttpClient> StaffAsync(string email) => App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);

    private static async Task<JsonElement> CreateAsync(HttpClient client, string slug, string externalId, string subject = "Leaking tap")
    {
        var response = await client.PostAsJsonAsync($"/api/v1/tenants/{slug}/conversations", new { from = "marie@example.fr", name = "Marie Curie", subject, body = "The kitchen tap drips.", externalId });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task A_clients_system_creates_a_conversation_once_per_external_id()
    {
        var client = await IntegrationAsync("acme");
        var first = await client.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "marie@example.fr", name = "Marie", subject = "Leak", body = "Drip", externalId = "crm-1" });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var created = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal($"/api/v1/tenants/acme/work-items/{created.GetProperty("id").GetGuid()}", first.Headers.Location?.OriginalString);
        Assert.Equal("Open", created.GetProperty("status").GetString());
        Assert.Equal("support", created.GetProperty("queue").GetString());

        // The tenant named in capitals is the same tenant, as on the channel routes: the same conversation.
        var again = await client.PostAsJsonAsync("/api/v1/tenants/ACME/conversations", new { from = "marie@example.fr", name = "Marie", subject = "Leak", body = "Drip", externalId = "crm-1" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(created.GetProperty("id").GetGuid(), JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid());
        Assert.Single((await client.JsonAsync("/api/v1/tenants/acme/work-items")).GetProperty("items").EnumerateArray());
    }

    private static async Task<(HttpStatusCode Status, Guid Id)> PostAsync(HttpClient client, string slug, object body)
    {
        var response = await client.PostAsJsonAsync($"/api/v1/tenants/{slug}/conversations", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid());
    }

    private async Task<string[]> BodiesAsync(string slug, Guid id) =>
        [.. (await (await StaffAsync("agent1@prodesk.test")).JsonAsync($"/api/v1/tenants/{slug}/work-items/{id}"))
            .GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("body").GetString()!)];

    [Fact]
    public async Task A_message_naming_its_conversation_is_threaded_there_and_reopens_it()
    {
        var client = await IntegrationAsync("acme");
        var first = await CreateAsync(client, "acme", "crm-thread-1", "Broken boiler");
        var id = first.GetProperty("id").GetGuid();
        var agent = await StaffAsync("agent1@prodesk.test");
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/status", new { status = "Solved" })).StatusCode);

        // Another address of the client's system may write on the customer's behalf: the caller named the conversation.
        var followUp = await PostAsync(client, "acme", new { from = "desk@acme-partner.example", subject = "Anything", body = "Still cold.", externalId = "crm-thread-2", conversationId = id });
        Assert.Equal((HttpStatusCode.OK, id), followUp);
        Assert.Equal(["The kitchen tap drips.", "Still cold."], await BodiesAsync("acme", id));
        Assert.Equal("Open", (await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("item").GetProperty("status").GetString());

        // Sent again, it is stored once.
        Assert.Equal((HttpStatusCode.OK, id), await PostAsync(client, "acme", new { from = "desk@acme-partner.example", subject = "Anything", body = "Still cold.", externalId = "crm-thread-2", conversationId = id }));
        Assert.Equal(2, (await BodiesAsync("acme", id)).Length);
        Assert.Single((await client.JsonAsync("/api/v1/tenants/acme/work-items")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Follow_ups_arriving_at_once_are_each_stored_once_and_start_the_next_response_clock_once()
    {
        var client = await IntegrationAsync("acme");
        var id = (await CreateAsync(client, "acme", "crm-burst-0", "Burst")).GetProperty("id").GetGuid();
        var agent = await StaffAsync("agent1@prodesk.test");
        Assert.True((await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "We are on it." })).IsSuccessStatusCode);

        // The customer writes four times at once: each save changes the item, so all but one lose its version check and
        // write again; what a losing save wrote must be gone with it (probe round 10: clocks started and escalations run once per message).
        var answers = await Task.WhenAll(Enumerable.Range(1, 4).Select(i =>
            PostAsync(client, "acme", new { from = "marie@example.fr", subject = "Re: Burst", body = $"More {i}", externalId = $"crm-burst-{i}", conversationId = id })));

        Assert.All(answers, answer => Assert.Equal((HttpStatusCode.OK, id), answer));
        var bodies = await BodiesAsync("acme", id);
        Assert.All(Enumerable.Range(1, 4), i => Assert.Single(bodies, b => b == $"More {i}"));
        var clock = await App.InTenantAsync("acme", db => db.SlaClockEntries.Where(c => c.WorkItemId == id)
            .Select(c => new { c.Target, c.Kind }).ToListAsync());
        Assert.Single(clock, c => c.Target == SlaTarget.NextResponse && c.Kind == SlaClockEventKind.Started);
        Assert.Single(await App.InTenantAsync("acme", db => db.SlaTimers.Where(t => t.WorkItemId == id && t.Target == SlaTarget.NextResponse && t.FiredAt == null).ToListAsync()));
    }

    [Fact]
    public async Task A_conversation_of_another_client_or_none_at_all_is_a_404_and_creates_nothing()
    {
        var theirs = (await CreateAsync(await IntegrationAsync("merlion"), "merlion", "theirs-1")).GetProperty("id").GetGuid();
        var client = await IntegrationAsync("acme");
        foreach (var conversationId in new[] { theirs, Guid.NewGuid() })
        {
            var response = await client.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
                new { from = "marie@example.fr", subject = "Re: Leaking tap", body = "Into yours?", externalId = $"probe-{conversationId}", conversationId });
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("conversationId", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Empty((await client.JsonAsync("/api/v1/tenants/acme/work-items")).GetProperty("items").EnumerateArray());
        Assert.Equal(["The kitchen tap drips."], await BodiesAsync("merlion", theirs));

        var malformed = await client.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
            new { from = "marie@example.fr", subject = "s", body = "b", externalId = "probe-bad", conversationId = "not-a-guid" });
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("conversationId", await malformed.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_re_subject_from_the_same_sender_continues_that_conversation_and_nothing_else_does()
    {
        var client = await IntegrationAsync("northwind");
        var id = (await CreateAsync(client, "northwind", "nw-1", "Invoice 4711")).GetProperty("id").GetGuid();

        Assert.Equal((HttpStatusCode.OK, id), await PostAsync(client, "northwind", new { from = "Marie@Example.fr", subject = "AW: RE[2]: Invoice 4711", body = "Any news?", externalId = "nw-2" }));
        Assert.Equal(["The kitchen tap drips.", "Any news?"], await BodiesAsync("northwind", id));

        // Another sender, a forward, or the same subject without "Re:" is a new conversation.
        var others = new[]
        {
            await PostAsync(client, "northwind", new { from = "someone.else@example.fr", subject = "Re: Invoice 4711", body = "Me too", externalId = "nw-3" }),
            await PostAsync(client, "northwind", new { from = "marie@example.fr", subject = "Fwd: Invoice 4711", body = "See below", externalId = "nw-4" }),
            await PostAsync(client, "northwind", new { from = "marie@example.fr", subject = "Invoice 4711", body = "A second invoice", externalId = "nw-5" }),
        };
        Assert.All(others, o => Assert.Equal(HttpStatusCode.Created, o.Status));
        Assert.Equal(4, others.Select(o => o.Id).Append(id).Distinct().Count());

        // A closed conversation is never reopened: the answer starts a new one. The newest open one with the subject is continued.
        var agent = await StaffAsync("agent1@prodesk.test");
        foreach (var status in new[] { "Solved", "Closed" })
        {
            Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/northwind/work-items/{id}/status", new { status })).StatusCode);
        }

        var afterClose = await PostAsync(client, "northwind", new { from = "marie@example.fr", subject = "Re: Invoice 4711", body = "Hello?", externalId = "nw-6" });
        Assert.Equal((HttpStatusCode.OK, others[2].Id), afterClose);
    }

    [Fact]
    public async Task The_same_external_id_sent_at_once_still_creates_one_item()
    {
        var client = await IntegrationAsync("acme");
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
            new { from = "a@example.fr", subject = "Same", body = "Same", externalId = "race-1" })));
        Assert.All(responses, r => Assert.True(r.IsSuccessStatusCode));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Single((await client.JsonAsync("/api/v1/tenants/acme/work-items")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_new_customer_writing_several_times_at_once_becomes_one_contact_with_every_item()
    {
        var client = await IntegrationAsync("merlion");
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => client.PostAsJsonAsync("/api/v1/tenants/merlion/conversations",
            new { from = "New.Customer@Example.SG", name = "New customer", subject = $"Parcel {i}", body = "Where is it?", externalId = $"burst-{i}" })));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Equal(8, (await client.JsonAsync("/api/v1/tenants/merlion/work-items")).GetProperty("items").GetArrayLength());
        var contacts = await App.InTenantAsync("merlion", db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.Contacts, c => c.Email == "new.customer@example.sg"));
        Assert.Equal(1, contacts);
    }

    [Fact]
    public async Task Bad_input_is_a_problem_naming_each_field_at_fault()
    {
        var client = await IntegrationAsync("acme");
        var response = await client.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "not an email", subject = "", body = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["externalId", "from", "subject"], errors.EnumerateObject().Select(p => p.Name).Order());

        // One bare address: a list or a display name would have kept another address than the one sent.
        foreach (var from in new[] { "a@example.org, b@example.org", "Ada <ada@example.org>", "ada@example.org\r\nBcc: x@example.org" })
        {
            var refused = await client.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from, subject = "s", body = "b", externalId = Guid.NewGuid().ToString() });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True(JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("from", out _), from);
        }

        // An id with a NUL in it cannot be stored (PostgreSQL): said as such, not a 500.
        var nul = await client.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "ada@example.org", subject = "s", body = "b", externalId = "crm\u00001" });
        Assert.Equal(HttpStatusCode.BadRequest, nul.StatusCode);
        Assert.True(JsonDocument.Parse(await nul.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("externalId", out _));

        var list = await client.GetAsync("/api/v1/tenants/acme/work-items?status=Frozen&cursor=nope");
        var listErrors = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["cursor", "status"], listErrors.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task The_list_is_newest_first_filtered_and_walked_with_a_cursor()
    {
        var client = await IntegrationAsync("northwind");
        for (var i = 1; i <= 5; i++)
        {
            await CreateAsync(client, "northwind", $"order-{i}", $"Order {i}");
        }

        var subjects = new List<string>();
        string? cursor = null;
        do
        {
            var page = await client.JsonAsync($"/api/v1/tenants/northwind/work-items?limit=2{(cursor is null ? "" : "&cursor=" + cursor)}");
            subjects.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("subject").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(["Order 5", "Order 4", "Order 3", "Order 2", "Order 1"], subjects);
        Assert.Empty((await client.JsonAsync("/api/v1/tenants/northwind/work-items?status=Closed")).GetProperty("items").EnumerateArray());
        Assert.Equal(5, (await client.JsonAsync("/api/v1/tenants/northwind/work-items?kind=Conversation&queue=support")).GetProperty("items").GetArrayLength());
        // CONTRACT.md's own template, every parameter named and none given: no filter, the first page.
        Assert.Equal(5, (await client.JsonAsync("/api/v1/tenants/northwind/work-items?kind=&status=&queue=&cursor=")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task One_item_shows_its_thread_and_sla_targets()
    {
        var created = await CreateAsync(await IntegrationAsync("sla-lab"), "sla-lab", "lab-1");
        var agent = await StaffAsync("agent3@prodesk.test");
        var item = await agent.JsonAsync($"/api/v1/tenants/sla-lab/work-items/{created.GetProperty("id").GetGuid()}");
        Assert.Equal("The kitchen tap drips.", item.GetProperty("messages")[0].GetProperty("body").GetString());
        // The name the sender gave, and the address it really came from.
        Assert.Equal("Marie Curie", item.GetProperty("messages")[0].GetProperty("author").GetString());
        Assert.Equal("marie@example.fr", item.GetProperty("messages")[0].GetProperty("from").GetString());
        Assert.Equal("Marie Curie", item.GetProperty("messages")[0].GetProperty("author").GetString());
        var targets = item.GetProperty("sla").GetProperty("targets").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("minutes").GetInt32());
        Assert.Equal(1, targets["firstResponse"]);
    }

    [Fact]
    public async Task A_stale_reply_is_refused_with_the_new_state_unless_the_agent_confirms()
    {
        var created = await CreateAsync(await IntegrationAsync("acme"), "acme", "stale-1");
        var id = created.GetProperty("id").GetGuid();
        var seen = created.GetProperty("version").GetInt32();
        var agentA = await StaffAsync("agent1@prodesk.test");
        var agentB = await StaffAsync("agent2@prodesk.test");

        Assert.Equal(HttpStatusCode.OK, (await agentA.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/notes", new { body = "Calling the plumber" })).StatusCode);
        var stale = await agentB.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "We are on it", version = seen });
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal("application/problem+json", stale.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await stale.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(409, problem.GetProperty("status").GetInt32());
        Assert.Equal(seen + 1, problem.GetProperty("version").GetInt32());
        Assert.Equal(seen + 1, problem.GetProperty("current").GetProperty("version").GetInt32());
        Assert.Equal("Open", problem.GetProperty("current").GetProperty("status").GetString());

        // A version no item ever had is the caller's mistake, named as such, not a colleague's change.
        var never = await agentB.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "We are on it", version = -1 });
        Assert.Equal(HttpStatusCode.BadRequest, never.StatusCode);
        Assert.True(JsonDocument.Parse(await never.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("version", out _));

        var confirmed = await agentB.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "We are on it", version = seen, force = true });
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        var item = await agentB.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        Assert.Equal(["Inbound", "Note", "Reply"], item.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("kind").GetString()));
        Assert.Equal("Pending", item.GetProperty("item").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Notes_and_confirmed_replies_sent_at_once_are_all_kept()
    {
        // Nothing in them names a version the agent saw, so a colleague saving the item first does not make them stale.
        var id = (await CreateAsync(await IntegrationAsync("acme"), "acme", "at-once-1")).GetProperty("id").GetGuid();
        var agent = await StaffAsync("agent1@prodesk.test");
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => i % 2 == 0
            ? agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/notes", new { body = $"note {i}" })
            : agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = $"reply {i}", version = 1, force = true })));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));

        var item = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        Assert.Equal(4, item.GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("kind").GetString() == "Note"));
        Assert.Equal(4, item.GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("kind").GetString() == "Reply"));
    }

    [Fact]
    public async Task Setting_what_an_item_already_has_changes_nothing_and_stales_no_colleague()
    {
        var created = await CreateAsync(await IntegrationAsync("acme"), "acme", "no-op-1");
        var id = created.GetProperty("id").GetGuid();
        var seen = created.GetProperty("version").GetInt32();
        var agent = await StaffAsync("agent1@prodesk.test");
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/tags", new { tags = Array.Empty<string>() })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/fields", new { fields = new { } })).StatusCode);
        // The status it has, as a client retrying after a timeout sends it again: done, not "not a change".
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/status", new { status = "Open" })).StatusCode);
        // A body without the object (a misspelt property) is a mistake, not a change.
        var missing = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/fields", new { feilds = new { } });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);

        var item = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        Assert.Equal(seen, item.GetProperty("item").GetProperty("version").GetInt32());
        Assert.Equal(["created"], item.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("field").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "On it", version = seen })).StatusCode);
    }

    [Fact]
    public async Task A_writes_answer_shows_the_times_a_later_read_shows()
    {
        // A client keeping the answer to see later whether the item changed compares times: they must be the stored ones
        // (PostgreSQL keeps microseconds; the clock ticks in tenths of them, so nine answers in ten used to differ).
        var created = await CreateAsync(await IntegrationAsync("acme"), "acme", "crm-times-1", "Times");
        var id = created.GetProperty("id").GetGuid();
        var agent = await StaffAsync("agent1@prodesk.test");
        var read = (await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("item");
        Assert.Equal(read.GetProperty("createdAt").GetString(), created.GetProperty("createdAt").GetString());
        foreach (var status in new[] { "Pending", "Open", "Pending" })
        {
            var moved = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/status", new { status });
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
            var answer = JsonDocument.Parse(await moved.Content.ReadAsStringAsync()).RootElement.GetProperty("updatedAt").GetString();
            var stored = (await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("item").GetProperty("updatedAt").GetString();
            Assert.Equal(stored, answer);
        }
    }

    [Fact]
    public async Task Status_moves_follow_the_state_machine()
    {
        var id = (await CreateAsync(await IntegrationAsync("acme"), "acme", "status-1")).GetProperty("id").GetGuid();
        var agent = await StaffAsync("agent1@prodesk.test");
        async Task<HttpResponseMessage> Move(string status) => await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/status", new { status });

        // Any case, as the list's status filter takes it.
        Assert.Equal(HttpStatusCode.OK, (await Move("solved")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Move("Closed")).StatusCode);
        var refused = await Move("Open");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("follow-up", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await Move("Frozen")).StatusCode);
    }

    [Fact]
    public async Task The_trail_names_the_agent_an_item_was_assigned_to_not_their_id()
    {
        var id = (await CreateAsync(await IntegrationAsync("sla-lab"), "sla-lab", "trail-assignee")).GetProperty("id").GetGuid();
        var agent = await StaffAsync("agent1@prodesk.test");
        var agentId = (await App.UserAsync("agent1@prodesk.test")).Id;
        // agent1 claims the most urgent item across its tenants until it holds this one.
        for (var i = 0; i < 500; i++)
        {
            using var claim = await agent.PostAsync("/api/v1/work/next", null);
            if (claim.StatusCode == HttpStatusCode.NoContent || (await claim.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid() == id)
            {
                break;
            }
        }

        var item = await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tenants/sla-lab/work-items/{id}");
        var assigned = Assert.Single(item.GetProperty("changes").EnumerateArray(), c => c.GetProperty("field").GetString() == "assignee");
        var name = (await App.UserAsync("agent1@prodesk.test")).DisplayName;
        Assert.Equal(name, assigned.GetProperty("to").GetString());
        Assert.DoesNotContain(agentId.ToString(), item.GetProperty("changes").GetRawText(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Client_users_read_their_items_but_do_not_act_as_agents()
    {
        var id = (await CreateAsync(await IntegrationAsync("acme"), "acme", "viewer-1")).GetProperty("id").GetGuid();
        var viewer = await StaffAsync("viewer@acme.test");
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/v1/tenants/acme/work-items/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "hi" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "a@b.fr", subject = "s", body = "b", externalId = "v" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.PostAsync("/api/v1/work/next", null)).StatusCode);
    }

    [Fact]
    public async Task The_client_companys_people_and_systems_see_the_conversation_without_internal_notes()
    {
        var integration = await IntegrationAsync("acme");
        var id = (await CreateAsync(integration, "acme", "notes-1")).GetProperty("id").GetGuid();
        var agent = await StaffAsync("agent1@prodesk.test");
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/notes", new { body = "Customer is difficult, escalate" })).EnsureSuccessStatusCode();
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "We are on it." })).EnsureSuccessStatusCode();

        static async Task<string[]> KindsAsync(HttpClient client, Guid id) =>
            [.. (await client.JsonAsync($"/api/v1/tenants/acme/work-items/{id}")).GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("kind").GetString()!)];

        Assert.Equal(["Inbound", "Note", "Reply"], await KindsAsync(agent, id));
        Assert.Equal(["Inbound", "Reply"], await KindsAsync(await StaffAsync("viewer@acme.test"), id));
        Assert.Equal(["Inbound", "Reply"], await KindsAsync(await StaffAsync("admin@acme.test"), id));
        Assert.Equal(["Inbound", "Reply"], await KindsAsync(integration, id));
    }
}
