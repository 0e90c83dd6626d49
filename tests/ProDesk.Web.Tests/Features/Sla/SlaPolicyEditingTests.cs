using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Sla;

/// <summary>
/// A provider admin changes an SLA policy through the API: the change is a new version that items
/// created from then on start under, while items already running keep the deadlines they were given.
/// acme (Europe/Paris) is open 08:30-12:30 and 13:30-18:00; support/Normal starts at 240/480/1440 minutes.
/// </summary>
public sealed class SlaPolicyEditingTests(SlaApp app) : SlaTest(app)
{
    private async Task<HttpClient> AdminAsync() => App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);

    private static DateTime Due(JsonElement item, string target) => item.GetProperty("sla").GetProperty("dueAt").GetProperty(target).GetDateTime().ToUniversalTime();

    private static string[] Targets(JsonElement item) =>
        [.. item.GetProperty("sla").GetProperty("targets").EnumerateArray().Select(t => $"{t.GetProperty("name").GetString()}:{t.GetProperty("minutes").GetInt32()}")];

    /// <summary>Moves the clock forward to the next <paramref name="day"/> at <paramref name="utcHour"/>:00 UTC.</summary>
    private DateTime MoveToNext(DayOfWeek day, int utcHour)
    {
        var now = App.Clock.GetUtcNow();
        var at = new DateTimeOffset(now.Date, TimeSpan.Zero).AddHours(utcHour);
        while (at <= now || at.DayOfWeek != day)
        {
            at = at.AddDays(1);
        }

        App.Clock.SetUtcNow(at);
        return at.UtcDateTime;
    }

    [Fact]
    public async Task Policy_edits_saved_at_the_same_moment_each_become_a_version_or_are_told_to_send_again()
    {
        var admin = await AdminAsync();
        var answers = await Task.WhenAll(Enumerable.Range(1, 8).Select(n =>
            admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/support/Normal", new { firstResponseMinutes = 60 + n, resolutionMinutes = 1440 })));
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.OK);
        foreach (var conflict in answers.Where(a => a.StatusCode == HttpStatusCode.Conflict))
        {
            Assert.Equal("application/problem+json", conflict.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Send the request again", await conflict.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var versions = await App.InTenantAsync("acme", db => db.SlaPolicies.Where(p => p.QueueKey == "support" && p.Priority == "Normal").Select(p => p.Version).ToListAsync());
        Assert.Equal(answers.Count(a => a.StatusCode == HttpStatusCode.OK) + 1, versions.Count);
    }

    [Fact]
    public async Task A_changed_policy_applies_to_new_items_while_started_items_keep_their_deadlines()
    {
        var monday = MoveToNext(DayOfWeek.Monday, 8); // 09:00 in Paris
        var admin = await AdminAsync();
        var client = await App.IntegrationClientAsync("acme");
        var before = await client.CreateConversationAsync("acme", "policy-before");

        var put = await admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/support/Normal", new
        {
            firstResponseMinutes = 60,
            nextResponseMinutes = 480,
            resolutionMinutes = 1440,
            warningPercents = new[] { 90, 50 },
            pauseStatuses = new[] { "OnHold" },
            escalations = new[] { new { on = "breach", action = "moveToQueue", queue = "billing" } },
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var saved = JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((2, 60, "admin@prodesk.test"), (saved.GetProperty("version").GetInt32(), saved.GetProperty("firstResponseMinutes").GetInt32(), saved.GetProperty("createdBy").GetString()));
        Assert.Equal([50, 90], saved.GetProperty("warningPercents").EnumerateArray().Select(w => w.GetInt32()));

        var after = await client.CreateConversationAsync("acme", "policy-after");

        // Started before: 240 business minutes from 09:00 is 14:00 in Paris (lunch 12:30-13:30 skipped), as before the change.
        var old = await admin.JsonAsync($"/api/v1/tenants/acme/work-items/{before}");
        Assert.Equal(monday.AddHours(5), Due(old, "firstResponse"));
        Assert.Equal(["firstResponse:240", "nextResponse:480", "resolution:1440"], Targets(old));
        // Started after: the new 60 minutes, 10:00 in Paris.
        var fresh = await admin.JsonAsync($"/api/v1/tenants/acme/work-items/{after}");
        Assert.Equal(monday.AddHours(1), Due(fresh, "firstResponse"));
        Assert.Equal(["firstResponse:60", "nextResponse:480", "resolution:1440"], Targets(fresh));

        // The list shows version 2 as current and both versions in the history, with who made them.
        var policies = await admin.JsonAsync("/api/v1/tenants/acme/sla/policies");
        var current = Assert.Single(policies.GetProperty("policies").EnumerateArray(), p => p.GetProperty("queue").GetString() == "support" && p.GetProperty("priority").GetString() == "Normal");
        Assert.Equal(2, current.GetProperty("version").GetInt32());
        Assert.Equal("billing", current.GetProperty("escalations")[0].GetProperty("queue").GetString());
        Assert.Equal(16, policies.GetProperty("policies").GetArrayLength()); // 4 queues x 4 priorities, one current version each
        var history = policies.GetProperty("history").EnumerateArray()
            .Where(p => p.GetProperty("queue").GetString() == "support" && p.GetProperty("priority").GetString() == "Normal")
            .Select(p => (p.GetProperty("version").GetInt32(), p.GetProperty("firstResponseMinutes").GetInt32(), p.GetProperty("createdBy").GetString()))
            .ToList();
        Assert.Equal([(2, 60, "admin@prodesk.test"), (1, 240, "seed")], history);

        // Saving the same values again makes no version 3.
        var again = await admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/support/normal", new
        {
            firstResponseMinutes = 60,
            nextResponseMinutes = 480,
            resolutionMinutes = 1440,
            warningPercents = new[] { 50, 90 },
            pauseStatuses = new[] { "OnHold" },
            escalations = new[] { new { on = "breach", action = "moveToQueue", queue = "billing" } },
        });
        Assert.Equal(2, JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt32());

        var audit = await AuditAsync("sla-policy-changed");
        var line = Assert.Single(audit);
        Assert.Equal(("admin@prodesk.test", "acme support/Normal"), (line.ActorName, line.Target));
        Assert.Contains("v1 -> v2: firstResponseMinutes 240 -> 60", line.Details, StringComparison.Ordinal);

        // Pause statuses are a set: the seed's two, listed the other way round, are no new version either.
        var seeded = new { firstResponseMinutes = 480, resolutionMinutes = 2880, pauseStatuses = new[] { "Pending", "OnHold" } };
        var first = await admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/billing/Low", seeded);
        var reordered = await admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/billing/Low", seeded with { pauseStatuses = new[] { "OnHold", "Pending" } });
        Assert.Equal(
            JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt32(),
            JsonDocument.Parse(await reordered.Content.ReadAsStringAsync()).RootElement.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Invalid_values_are_refused_naming_each_field_and_add_no_version()
    {
        var admin = await AdminAsync();

        var bad = await admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/support/Normal", new
        {
            firstResponseMinutes = 0,
            resolutionMinutes = 1440,
            warningPercents = new[] { 75, 120 },
            pauseStatuses = new[] { "Solved" },
            escalations = new object[]
            {
                new { on = "breach", action = "moveToQueue", queue = "nowhere" },
                new { on = "later", action = "notifySupervisors" },
                new { on = "breach", action = "notifySupervisors", queue = "billing" },
            },
        });

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(
            ["escalations[0].queue", "escalations[1].on", "escalations[2].queue", "firstResponseMinutes", "pauseStatuses[0]", "warningPercents[1]"],
            errors.EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Contains("billing", errors.GetProperty("escalations[0].queue")[0].GetString(), StringComparison.Ordinal);
        // Only a move names a queue: stored beside another action, it would read as if that action went somewhere.
        Assert.Contains("only moveToQueue", errors.GetProperty("escalations[2].queue")[0].GetString(), StringComparison.Ordinal);

        // Hours typed as minutes: every waiting item would breach its resolution before its first answer was due.
        var swapped = await admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/support/Normal", new { firstResponseMinutes = 480, resolutionMinutes = 24 });
        Assert.Equal(HttpStatusCode.BadRequest, swapped.StatusCode);
        var swappedErrors = JsonDocument.Parse(await swapped.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["resolutionMinutes"], swappedErrors.EnumerateObject().Select(e => e.Name));
        Assert.Contains("firstResponseMinutes (480)", swappedErrors.GetProperty("resolutionMinutes")[0].GetString(), StringComparison.Ordinal);

        var badPriority = await admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/support/Critical", new { resolutionMinutes = 60 });
        Assert.Equal(HttpStatusCode.BadRequest, badPriority.StatusCode);
        Assert.True(JsonDocument.Parse(await badPriority.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("priority", out _));

        // An empty body would stop every new item's clocks: at least one target is asked for.
        var empty = await admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/support/Normal", new { });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.True(JsonDocument.Parse(await empty.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("firstResponseMinutes", out _));

        // A queue the tenant does not have is not there to change (northwind's queue, asked of acme, included).
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/nowhere/Normal", new { resolutionMinutes = 60 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/returns/Normal", new { resolutionMinutes = 60 })).StatusCode);

        Assert.Equal(16, await App.InTenantAsync("acme", db => db.SlaPolicies.CountAsync()));
        Assert.Empty(await AuditAsync("sla-policy-changed"));
    }

    [Fact]
    public async Task Absent_fields_mean_no_target_and_the_default_warnings_pauses_and_no_escalation()
    {
        var admin = await AdminAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/v1/tenants/northwind/sla/policies/returns/Low", new { resolutionMinutes = 2880 })).StatusCode);

        var policies = await admin.JsonAsync("/api/v1/tenants/northwind/sla/policies");
        var created = Assert.Single(policies.GetProperty("policies").EnumerateArray(), p => p.GetProperty("queue").GetString() == "returns" && p.GetProperty("priority").GetString() == "Low");
        Assert.Equal(2, created.GetProperty("version").GetInt32());
        Assert.Empty(created.GetProperty("escalations").EnumerateArray());
        // Absent warnings and pauses are the defaults; absent targets have no clock.
        Assert.Equal([75, 90], created.GetProperty("warningPercents").EnumerateArray().Select(w => w.GetInt32()));
        Assert.Equal(["Pending", "OnHold"], created.GetProperty("pauseStatuses").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(JsonValueKind.Null, created.GetProperty("firstResponseMinutes").ValueKind);
        // Only northwind's own queues are listed: another tenant's policies never show.
        Assert.All(policies.GetProperty("history").EnumerateArray(), p => Assert.Contains(p.GetProperty("queue").GetString(), new[] { "support", "returns", "data-entry" }));
    }

    private async Task<List<ProDesk.Data.Audit.AuditEvent>> AuditAsync(string action)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().AuditEvents.Where(e => e.Action == action).ToListAsync();
    }
}
