using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ProDesk.Web.Realtime;
using ProDesk.Web.Sla;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Sla;

/// <summary>
/// SLA clocks end to end on the test clock: deadlines on the tenant's calendar in the API, timers that
/// the sweeper fires once, at their time, to the hub, the trail and the escalations; pauses and replies
/// that move or meet them. sla-lab is open 24/7 with a 1-minute first response and a 10-minute resolution.
/// </summary>
public sealed class SlaClockTests(SlaApp app) : SlaTest(app)
{
    private async Task<HttpClient> AgentAsync() => App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);

    private Task<int> SweepAsync() => App.Services.GetRequiredService<SlaSweeper>().SweepOnceAsync(CancellationToken.None);

    private static async Task<JsonElement> ItemAsync(HttpClient client, string slug, Guid id) =>
        await client.JsonAsync($"/api/v1/tenants/{slug}/work-items/{id}");

    private static DateTime Due(JsonElement item, string target) => item.GetProperty("sla").GetProperty("dueAt").GetProperty(target).GetDateTime().ToUniversalTime();

    /// <summary>Moves the clock forward to the next <paramref name="day"/> at <paramref name="utcHour"/>:00 UTC.</summary>
    private DateTimeOffset MoveToNext(DayOfWeek day, int utcHour)
    {
        var now = App.Clock.GetUtcNow();
        var at = new DateTimeOffset(now.Date, TimeSpan.Zero).AddHours(utcHour);
        while (at <= now || at.DayOfWeek != day)
        {
            at = at.AddDays(1);
        }

        App.Clock.SetUtcNow(at);
        return at;
    }

    [Fact]
    public async Task Deadlines_are_counted_in_the_tenants_business_hours_across_the_weekend()
    {
        // Friday 16:00 in Paris; acme is open 08:30-12:30 and 13:30-18:00 (17:00 on Fridays).
        var friday = MoveToNext(DayOfWeek.Friday, 15);
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("acme", "sla-hours");

        var item = await ItemAsync(agent, "acme", id);

        // 4 business hours: Friday 16:00-17:00, then Monday 08:30-11:30 Paris (10:30 UTC).
        var monday = friday.UtcDateTime.Date.AddDays(3);
        Assert.Equal(monday.AddHours(10.5), Due(item, "firstResponse"));
        // 24 business hours: 1 h Friday, 8.5 h Monday, 8.5 h Tuesday, then 6 h of Wednesday: 15:30 Paris.
        Assert.Equal(monday.AddDays(2).AddHours(14.5), Due(item, "resolution"));
        Assert.Equal(
            ["firstResponse:240", "nextResponse:480", "resolution:1440"],
            item.GetProperty("sla").GetProperty("targets").EnumerateArray().Select(t => $"{t.GetProperty("name").GetString()}:{t.GetProperty("minutes").GetInt32()}"));
    }

    [Fact]
    public async Task A_missed_first_response_fires_a_warning_then_one_breach_to_the_console_trail_and_api()
    {
        var agent = await AgentAsync();
        var events = Channel.CreateUnbounded<(string Kind, SlaEvent Sla)>();
        await using var console = await App.AgentHubAsync("supervisor@prodesk.test", hub =>
        {
            hub.On<SlaEvent>(nameof(IAgentClient.SlaWarning), e => events.Writer.TryWrite(("warning", e)));
            hub.On<SlaEvent>(nameof(IAgentClient.SlaBreached), e => events.Writer.TryWrite(("breach", e)));
        });
        var created = App.Clock.GetUtcNow().UtcDateTime;
        var id = await agent.CreateConversationAsync("sla-lab", "sla-breach");
        Assert.Equal(created.AddMinutes(1), Due(await ItemAsync(agent, "sla-lab", id), "firstResponse"));

        App.Clock.Advance(TimeSpan.FromSeconds(44));
        Assert.Equal(0, await SweepAsync());
        App.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await SweepAsync());
        var warning = await events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(("warning", "sla-lab", id, "firstResponse", 75), (warning.Kind, warning.Sla.Tenant, warning.Sla.ItemId, warning.Sla.Target, warning.Sla.Percent));

        App.Clock.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(2, await SweepAsync()); // the 90 % warning and the breach at 60 s
        Assert.Equal(0, await SweepAsync()); // fired once
        var fired = new[] { await events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)), await events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)) };
        var breach = Assert.Single(fired, f => f.Kind == "breach");
        Assert.Equal(("firstResponse", 100, created.AddMinutes(1)), (breach.Sla.Target, breach.Sla.Percent, breach.Sla.DueAt.ToUniversalTime()));
        Assert.True(breach.Sla.NotifySupervisors); // sla-lab's fast queue escalates breaches to supervisors

        var item = await ItemAsync(agent, "sla-lab", id);
        Assert.Equal(["firstResponse"], item.GetProperty("sla").GetProperty("breaches").EnumerateArray().Select(b => b.GetString()));
        var trail = item.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("to").GetString()).ToList();
        Assert.Contains("firstResponse warning 75%", trail);
        Assert.Contains("firstResponse breached", trail);
        // The policy's breach escalation raised the priority one step.
        Assert.Equal("High", item.GetProperty("item").GetProperty("priority").GetString());
    }

    [Fact]
    public async Task A_reply_in_time_meets_the_first_response_and_waiting_on_the_customer_pauses_the_resolution()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-met");
        App.Clock.Advance(TimeSpan.FromSeconds(30));
        var replied = await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "On it." });
        Assert.Equal(HttpStatusCode.OK, replied.StatusCode);

        App.Clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(0, await SweepAsync()); // no warning, no breach: answered in time, then paused

        var sla = (await ItemAsync(agent, "sla-lab", id)).GetProperty("sla");
        Assert.Empty(sla.GetProperty("breaches").EnumerateArray());
        Assert.Equal(App.Clock.GetUtcNow().UtcDateTime.AddMinutes(-30), sla.GetProperty("pausedSince").GetDateTime().ToUniversalTime());
        Assert.False(sla.GetProperty("dueAt").TryGetProperty("resolution", out _)); // paused: no due time until it resumes
    }

    [Fact]
    public async Task A_holding_reply_sent_to_keep_the_item_open_meets_the_first_response_and_lets_the_resolution_run_on()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-holding");
        App.Clock.Advance(TimeSpan.FromSeconds(30));
        var resolutionDue = Due(await ItemAsync(agent, "sla-lab", id), "resolution");

        var bad = await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "On it.", status = "Closed" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True(JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("status", out _));

        var replied = await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "We are looking into it and will update you within the hour.", status = "open" });
        Assert.Equal(HttpStatusCode.OK, replied.StatusCode);

        var item = await ItemAsync(agent, "sla-lab", id);
        Assert.Equal("Open", item.GetProperty("item").GetProperty("status").GetString());
        var sla = item.GetProperty("sla");
        Assert.Equal(JsonValueKind.Null, sla.GetProperty("pausedSince").ValueKind);
        Assert.Equal(resolutionDue, Due(item, "resolution")); // still running, to the same deadline
        Assert.False(sla.GetProperty("dueAt").TryGetProperty("firstResponse", out _)); // answered

        // "Send and solve": the reply and the solve in one step, with the rating request a solve sends.
        var solved = await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "Fixed: the valve was replaced.", status = "Solved" });
        Assert.Equal(HttpStatusCode.OK, solved.StatusCode);
        item = await ItemAsync(agent, "sla-lab", id);
        Assert.Equal("Solved", item.GetProperty("item").GetProperty("status").GetString());
        var moves = item.GetProperty("changes").EnumerateArray().Where(c => c.GetProperty("field").GetString() == "status").Select(c => c.GetProperty("to").GetString());
        Assert.Equal(["Solved"], moves);
        Assert.Equal(1, await App.InTenantAsync("sla-lab", db => db.OutboundMessages.CountAsync(o => o.WorkItemId == id && o.Body.Contains("/csat/"))));

        // A move the status machine refuses changes nothing: a Solved item cannot be set Pending by a reply.
        var refused = await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "One more thing.", status = "Pending" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(2, (await ItemAsync(agent, "sla-lab", id)).GetProperty("messages").EnumerateArray().Count(m => m.GetProperty("kind").GetString() == "Reply"));
    }

    [Fact]
    public async Task An_unanswered_question_merged_into_another_conversation_keeps_its_deadline_there()
    {
        var agent = await AgentAsync();
        var target = await agent.CreateConversationAsync("sla-lab", "sla-merge-target");
        (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{target}/replies", new { body = "Which floor?" })).EnsureSuccessStatusCode();
        App.Clock.Advance(TimeSpan.FromSeconds(5));
        var source = await agent.CreateConversationAsync("sla-lab", "sla-merge-source");
        var owedBy = Due(await ItemAsync(agent, "sla-lab", source), "firstResponse"); // a minute after the question
        App.Clock.Advance(TimeSpan.FromSeconds(50));

        (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{target}/merge", new { from = source })).EnsureSuccessStatusCode();

        // Not a fresh full minute from the merge: the answer is owed when the merged question's was.
        var merged = await ItemAsync(agent, "sla-lab", target);
        Assert.Equal("Open", merged.GetProperty("item").GetProperty("status").GetString());
        Assert.Equal(owedBy, Due(merged, "nextResponse"));

        App.Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(await SweepAsync() >= 1);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{target}/replies", new { body = "Second floor, on our way." })).EnsureSuccessStatusCode();
        var answered = await ItemAsync(agent, "sla-lab", target);
        Assert.Contains("nextResponse", answered.GetProperty("sla").GetProperty("breaches").EnumerateArray().Select(b => b.GetString()));
    }

    [Fact]
    public async Task A_warning_fires_once_per_measurement_even_when_the_clock_pauses_and_resumes_between_thresholds()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-resume");
        async Task MoveAsync(string status) =>
            Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/status", new { status })).StatusCode);

        // Answered at once (the reply waits on the customer), then reopened: 30 s of the 10-minute resolution used.
        App.Clock.Advance(TimeSpan.FromSeconds(30));
        await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "Looking into it." });
        await MoveAsync("Open");

        App.Clock.Advance(TimeSpan.FromMinutes(7.3)); // 78 % used
        Assert.Equal(1, await SweepAsync());
        await MoveAsync("OnHold");
        App.Clock.Advance(TimeSpan.FromMinutes(5));
        await MoveAsync("Open");
        Assert.Equal(0, await SweepAsync()); // the 75 % warning stays fired across the pause

        App.Clock.Advance(TimeSpan.FromMinutes(1.5)); // 93 %
        Assert.Equal(1, await SweepAsync());
        App.Clock.Advance(TimeSpan.FromMinutes(1)); // 103 %
        Assert.Equal(1, await SweepAsync());
        Assert.Equal(0, await SweepAsync());

        var trail = (await ItemAsync(agent, "sla-lab", id)).GetProperty("changes").EnumerateArray()
            .Select(c => c.GetProperty("to").GetString()).Where(to => to?.StartsWith("resolution", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(["resolution warning 75%", "resolution warning 90%", "resolution breached"], trail);
    }

    [Fact]
    public async Task Time_on_hold_moves_the_resolution_deadline_by_exactly_the_time_paused()
    {
        var agent = await AgentAsync();
        var created = App.Clock.GetUtcNow().UtcDateTime;
        var id = await agent.CreateConversationAsync("sla-lab", "sla-hold");
        await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "Checking with the client." });

        App.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/status", new { status = "OnHold" })).StatusCode);
        App.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/status", new { status = "Open" })).StatusCode);

        // Paused from the reply (Pending) until reopened 7 minutes later: 10 minutes of goal, due 17 minutes after creation.
        Assert.Equal(created.AddMinutes(17), Due(await ItemAsync(agent, "sla-lab", id), "resolution"));
    }

    [Fact]
    public async Task Claim_next_takes_the_item_due_first_within_a_priority_even_when_it_is_newer()
    {
        var agent = await AgentAsync();
        var older = await agent.CreateConversationAsync("merlion", "due-later");   // 4 business hours
        App.Clock.Advance(TimeSpan.FromSeconds(5));
        var newer = await agent.CreateConversationAsync("sla-lab", "due-sooner");  // 1 minute

        var first = await agent.PostAsync("/api/v1/work/next", null);
        var second = await agent.PostAsync("/api/v1/work/next", null);

        Assert.Equal(newer, JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid());
        Assert.Equal(older, JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task A_timer_armed_before_a_restart_fires_once_on_the_next_host()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-restart");

        // A second host on the same database, its clock past the due time: it fires what the first armed.
        var later = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(App.Clock.GetUtcNow().AddMinutes(2));
        await using (var restarted = App.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(later))))
        {
            Assert.Equal(3, await restarted.Services.GetRequiredService<SlaSweeper>().SweepOnceAsync(CancellationToken.None));
            Assert.Equal(0, await restarted.Services.GetRequiredService<SlaSweeper>().SweepOnceAsync(CancellationToken.None));
        }

        App.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, await SweepAsync());
        var breaches = await App.InTenantAsync("sla-lab", db => db.SlaClockEntries.CountAsync(c => c.WorkItemId == id && c.Kind == Domain.Sla.SlaClockEventKind.Breached));
        Assert.Equal(1, breaches);
    }

    [Fact]
    public async Task A_customer_follow_up_after_an_answer_starts_a_next_response_clock_that_the_next_reply_meets()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-next");
        await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "What is the order number?" });

        // The customer answers a minute later (what a channel's threading does: reopen, then tell the clock).
        App.Clock.Advance(TimeSpan.FromMinutes(1));
        var wrote = App.Clock.GetUtcNow().UtcDateTime;
        await CustomerWritesAsync(id);

        var sla = (await ItemAsync(agent, "sla-lab", id)).GetProperty("sla");
        Assert.Equal(wrote.AddMinutes(2), sla.GetProperty("dueAt").GetProperty("nextResponse").GetDateTime().ToUniversalTime());
        Assert.Equal(JsonValueKind.Null, sla.GetProperty("pausedSince").ValueKind); // reopened: the resolution runs again

        App.Clock.Advance(TimeSpan.FromSeconds(90));
        await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "Found it, shipping today." });
        App.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await SweepAsync()); // met in time: the next-response breach never fires
        var met = (await ItemAsync(agent, "sla-lab", id)).GetProperty("sla");
        Assert.Empty(met.GetProperty("breaches").EnumerateArray());
        // A met response is no longer due, and the reply made the item wait on the customer (the resolution paused):
        // nothing is due, where the met clocks used to be listed with their past due times, as if overdue.
        Assert.Empty(met.GetProperty("dueAt").EnumerateObject());
    }

    [Fact]
    public async Task A_missed_next_response_stays_breached_after_the_customer_writes_again_in_the_item_and_the_report()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-next-missed");
        await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "What is the order number?" });
        App.Clock.Advance(TimeSpan.FromMinutes(1));
        await CustomerWritesAsync(id);

        // Nobody answers within the 2-minute next response; the answer comes late, and the customer writes once more.
        App.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.True(await SweepAsync() > 0);
        await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "Sorry, found it." });
        App.Clock.Advance(TimeSpan.FromMinutes(1));
        await CustomerWritesAsync(id);

        var sla = (await ItemAsync(agent, "sla-lab", id)).GetProperty("sla");
        Assert.Equal(["nextResponse"], sla.GetProperty("breaches").EnumerateArray().Select(b => b.GetString()));
        Assert.True(sla.GetProperty("dueAt").TryGetProperty("nextResponse", out _)); // the new measurement runs
        var day = App.Clock.GetUtcNow().UtcDateTime.Date;
        var report = await agent.JsonAsync($"/api/v1/tenants/sla-lab/reports/sla?from={day:yyyy-MM-dd}&to={day.AddDays(1):yyyy-MM-dd}");
        var next = report.GetProperty("total").GetProperty("targets").GetProperty("nextResponse");
        Assert.Equal((0, 1), (next.GetProperty("met").GetInt32(), next.GetProperty("breached").GetInt32()));
    }

    [Fact]
    public async Task Setting_an_unanswered_item_pending_does_not_stop_its_first_response_clock()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-pending-unanswered");
        App.Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/status", new { status = "Pending" })).StatusCode);

        var waiting = (await ItemAsync(agent, "sla-lab", id)).GetProperty("sla");
        Assert.True(waiting.GetProperty("dueAt").TryGetProperty("firstResponse", out _)); // still owed: only the resolution waits
        Assert.False(waiting.GetProperty("dueAt").TryGetProperty("resolution", out _));

        App.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True(await SweepAsync() > 0);
        var sla = (await ItemAsync(agent, "sla-lab", id)).GetProperty("sla");
        Assert.Equal(["firstResponse"], sla.GetProperty("breaches").EnumerateArray().Select(b => b.GetString()));

        // The agent's item page shows the same clocks.
        var page = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(await (await App.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/sla-lab/{id}"));
        Assert.EndsWith("· breached", page.QuerySelector("[data-testid=sla-firstResponse]")!.TextContent, StringComparison.Ordinal);
        Assert.StartsWith("paused since", page.QuerySelector("[data-testid=sla-resolution]")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reply_given_up_undelivered_after_it_was_written_reopens_the_item_and_its_first_response_runs_on_from_the_reply()
    {
        var agent = await AgentAsync();
        var created = App.Clock.GetUtcNow().UtcDateTime;
        var id = await agent.CreateConversationAsync("sla-lab", "sla-undelivered");
        App.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "On it." })).StatusCode);
        Assert.Equal("Pending", (await ItemAsync(agent, "sla-lab", id)).GetProperty("item").GetProperty("status").GetString());

        // The address bounces for good (an earlier mail's DSN) before the dispatcher gets to the reply.
        var tenant = await App.TenantAsync("sla-lab");
        await App.InTenantAsync("sla-lab", db =>
        {
            db.EmailSuppressions.Add(new ProDesk.Data.Channels.EmailSuppression { TenantId = tenant.Id, Address = "customer@example.com", Reason = "550 5.1.1 user unknown", CreatedAt = App.Clock.GetUtcNow().UtcDateTime });
            return db.SaveChangesAsync();
        });
        App.Clock.Advance(TimeSpan.FromSeconds(20));
        await App.Services.GetRequiredService<ProDesk.Web.Channels.Outbound.OutboundDispatcher>().SendDueAsync(CancellationToken.None);

        // Open again, and owed the answer by the first response's own due time: the customer waited all along.
        var item = await ItemAsync(agent, "sla-lab", id);
        Assert.Equal("Open", item.GetProperty("item").GetProperty("status").GetString());
        Assert.Equal(created.AddMinutes(1), Due(item, "firstResponse"));
        Assert.Contains(item.GetProperty("changes").EnumerateArray(), c => c.GetProperty("to").GetString()!.StartsWith("not delivered: the address bounced", StringComparison.Ordinal));

        App.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await SweepAsync() > 0);
        item = await ItemAsync(agent, "sla-lab", id);
        Assert.Equal(["firstResponse"], item.GetProperty("sla").GetProperty("breaches").EnumerateArray().Select(b => b.GetString()));
    }

    [Fact]
    public async Task The_wallboard_counts_an_item_past_due_as_breached_and_not_as_due_soon_even_before_the_sweeper_records_it()
    {
        var agent = await AgentAsync();
        await agent.CreateConversationAsync("sla-lab", "board-overdue");
        App.Clock.Advance(TimeSpan.FromSeconds(45));
        await agent.CreateConversationAsync("sla-lab", "board-due-soon");
        App.Clock.Advance(TimeSpan.FromSeconds(20)); // the first is 5 s past its 1-minute first response; the second has 40 s left

        var board = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(await (await App.SignedInAsync("supervisor@prodesk.test")).GetStringAsync("/supervisor?handler=Board"));
        var fast = board.QuerySelector("[data-queue='sla-lab/fast']")!;
        Assert.Equal(("1", "1"), (fast.QuerySelector("[data-testid=due-soon]")!.TextContent, fast.QuerySelector("[data-testid=breached]")!.TextContent));
    }

    [Fact]
    public async Task A_reply_to_an_address_that_bounced_for_good_is_no_first_response()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-bounced");
        var tenant = await App.TenantAsync("sla-lab");
        await App.InTenantAsync("sla-lab", db =>
        {
            db.EmailSuppressions.Add(new ProDesk.Data.Channels.EmailSuppression { TenantId = tenant.Id, Address = "customer@example.com", Reason = "550 5.1.1 user unknown", CreatedAt = App.Clock.GetUtcNow().UtcDateTime });
            return db.SaveChangesAsync();
        });

        App.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "On it." })).StatusCode);
        App.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True(await SweepAsync() > 0);

        var item = await ItemAsync(agent, "sla-lab", id);
        Assert.Equal("Open", item.GetProperty("item").GetProperty("status").GetString());
        Assert.Equal(["firstResponse"], item.GetProperty("sla").GetProperty("breaches").EnumerateArray().Select(b => b.GetString()));
    }

    [Fact]
    public async Task A_late_reply_that_beats_the_sweeper_still_tells_everyone_of_the_breach_once()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-late-reply");
        // Past the 1-minute first response, the warnings fire; the reply comes before the sweeper got to the breach.
        App.Clock.Advance(TimeSpan.FromSeconds(55));
        await SweepAsync();
        App.Clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "Sorry for the wait." })).StatusCode);

        Assert.Equal(1, await SweepAsync());
        Assert.Equal(0, await SweepAsync());
        var item = await ItemAsync(agent, "sla-lab", id);
        Assert.Equal(["firstResponse"], item.GetProperty("sla").GetProperty("breaches").EnumerateArray().Select(b => b.GetString()));
        Assert.Contains("firstResponse breached", item.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("to").GetString()));
        Assert.Equal("High", item.GetProperty("item").GetProperty("priority").GetString()); // the breach escalation ran
        Assert.Equal(1, await App.InTenantAsync("sla-lab", db => db.OutboxEvents.CountAsync(e => e.Type == "SlaBreached" && e.PayloadJson.Contains(id.ToString()))));
    }

    [Fact]
    public async Task Solving_an_unanswered_item_and_reopening_it_keeps_its_first_response_owed_and_breachable()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-solve-reopen");
        async Task MoveAsync(string status) =>
            Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/status", new { status })).StatusCode);

        // 20 s of the 1-minute first response used, then solved by mistake for 5 minutes, then reopened with no answer.
        App.Clock.Advance(TimeSpan.FromSeconds(20));
        await MoveAsync("Solved");
        App.Clock.Advance(TimeSpan.FromMinutes(5));
        await MoveAsync("Open");
        Assert.Equal(App.Clock.GetUtcNow().UtcDateTime.AddSeconds(40), Due(await ItemAsync(agent, "sla-lab", id), "firstResponse"));

        App.Clock.Advance(TimeSpan.FromSeconds(41));
        await SweepAsync();
        var item = await ItemAsync(agent, "sla-lab", id);
        Assert.Contains("firstResponse", item.GetProperty("sla").GetProperty("breaches").EnumerateArray().Select(b => b.GetString()));
        Assert.Contains("firstResponse breached", item.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("to").GetString()));
    }

    [Fact]
    public async Task A_customer_writing_to_a_solved_unanswered_item_is_still_owed_the_first_response_not_a_new_next_response()
    {
        var agent = await AgentAsync();
        var id = await agent.CreateConversationAsync("sla-lab", "sla-solve-write");
        App.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/status", new { status = "Solved" })).StatusCode);
        App.Clock.Advance(TimeSpan.FromHours(1));
        await CustomerWritesAsync(id);

        var dueAt = (await ItemAsync(agent, "sla-lab", id)).GetProperty("sla").GetProperty("dueAt");
        Assert.Equal(App.Clock.GetUtcNow().UtcDateTime.AddSeconds(50), dueAt.GetProperty("firstResponse").GetDateTime().ToUniversalTime());
        Assert.False(dueAt.TryGetProperty("nextResponse", out _));

        // The reply that follows answers it, in time: 10 s + 5 s of the minute.
        App.Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/sla-lab/work-items/{id}/replies", new { body = "Sorry, here is the answer." })).StatusCode);
        var sla = (await ItemAsync(agent, "sla-lab", id)).GetProperty("sla");
        Assert.False(sla.GetProperty("dueAt").TryGetProperty("firstResponse", out _));
        Assert.Empty(sla.GetProperty("breaches").EnumerateArray());
    }

    /// <summary>What a channel's threading does when the customer writes again: reopen the item, then tell the clock.</summary>
    private async Task CustomerWritesAsync(Guid id)
    {
        using (ProDesk.Web.Tenancy.TenantScopes.Enter(await App.ScopeAsync("sla-lab")))
        {
            await using var scope = App.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ProDesk.Data.ProDeskDbContext>();
            var item = await db.WorkItems.FirstAsync(w => w.Id == id);
            var before = item.Status;
            item.Status = Domain.WorkItems.WorkItemStatus.Open;
            await scope.ServiceProvider.GetRequiredService<SlaEngine>().UpdateAsync(
                item, new SlaChange(CustomerWrote: true, StatusFrom: before), App.Clock.GetUtcNow().UtcDateTime, CancellationToken.None);
            await db.SaveChangesAsync();
        }
    }
}
