using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Sla;

/// <summary>
/// A provider admin imports holidays into a tenant's business calendar from an iCalendar file, and the
/// deadlines of new items skip them. acme is in Europe/Paris, open 08:30-12:30 and 13:30-18:00 on weekdays,
/// with Noël (2026-12-25) and the Fête du Travail (2027-05-01) among its seeded holidays.
/// </summary>
public sealed class HolidayImportTests(SlaApp app) : SlaTest(app)
{
    /// <summary>As Google Calendar exports a shared calendar: a VTIMEZONE, folded lines, escaped text, a cancelled event.</summary>
    private const string RealWorldCalendar = """
        BEGIN:VCALENDAR
        PRODID:-//Google Inc//Google Calendar 70.9054//EN
        VERSION:2.0
        CALSCALE:GREGORIAN
        METHOD:PUBLISH
        X-WR-CALNAME:Fermetures Acme
        X-WR-TIMEZONE:Europe/Paris
        BEGIN:VTIMEZONE
        TZID:Europe/Paris
        X-LIC-LOCATION:Europe/Paris
        BEGIN:DAYLIGHT
        TZOFFSETFROM:+0100
        TZOFFSETTO:+0200
        TZNAME:CEST
        DTSTART:19700329T020000
        RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
        END:DAYLIGHT
        BEGIN:STANDARD
        TZOFFSETFROM:+0200
        TZOFFSETTO:+0100
        TZNAME:CET
        DTSTART:19701025T030000
        RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
        END:STANDARD
        END:VTIMEZONE
        BEGIN:VEVENT
        DTSTART;VALUE=DATE:20261224
        DTEND;VALUE=DATE:20261227
        DTSTAMP:20261101T120000Z
        UID:closure-2026@acme.test
        SUMMARY:Fermeture de Noël
        TRANSP:TRANSPARENT
        END:VEVENT
        BEGIN:VEVENT
        DTSTART:20261217T233000Z
        DTEND:20261218T020000Z
        DTSTAMP:20261101T120000Z
        UID:inventory-2026@acme.test
        SUMMARY:Inventaire annuel
        END:VEVENT
        BEGIN:VEVENT
        DTSTART;TZID=Europe/Paris:20270115T090000
        DTEND;TZID=Europe/Paris:20270115T170000
        DTSTAMP:20261101T120000Z
        UID:seminar-2027@acme.test
        SUMMARY:Séminaire d'équipe\, tous les services
        DESCRIPTION:Toute l'équipe est au séminaire. Les demandes urgentes passent
          par l'astreinte.
        END:VEVENT
        BEGIN:VEVENT
        DTSTART;VALUE=DATE:20200501
        RRULE:FREQ=YEARLY
        DTSTAMP:20261101T120000Z
        UID:labour-day@acme.test
        SUMMARY:Fête du Travail (chaque année)
        END:VEVENT
        BEGIN:VEVENT
        DTSTART;VALUE=DATE:20261207
        DTSTAMP:20261101T120000Z
        UID:cancelled@acme.test
        STATUS:CANCELLED
        SUMMARY:Pont annulé
        END:VEVENT
        END:VCALENDAR
        """;

    private async Task<HttpClient> AdminAsync() => App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);

    private static Task<HttpResponseMessage> ImportAsync(HttpClient client, string slug, string ics, string mediaType = "text/calendar") =>
        client.PutAsync($"/api/v1/tenants/{slug}/calendar/holidays", new StringContent(ics.ReplaceLineEndings("\r\n"), Encoding.UTF8, mediaType));

    private static Dictionary<string, string> Holidays(JsonElement calendar) =>
        calendar.GetProperty("holidays").EnumerateArray().ToDictionary(h => h.GetProperty("date").GetString()!, h => h.GetProperty("name").GetString()!);

    [Fact]
    public async Task Importing_a_calendar_adds_each_date_it_covers_once_and_keeps_the_names_already_listed()
    {
        var admin = await AdminAsync();

        var response = await ImportAsync(admin, "acme", RealWorldCalendar);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        // The three-day closure gives the 24th and 26th (the 25th is already Noël); the 23:30 UTC inventory is on
        // the 18th in Paris; the seminar on its day; the yearly Fête du Travail adds 2028 (2027 is listed, 2020-2026
        // are past, and 2029 is beyond the two years ahead); the cancelled event adds nothing.
        var added = result.GetProperty("added").EnumerateArray().Select(h => (h.GetProperty("date").GetString(), h.GetProperty("name").GetString())).ToList();
        Assert.Equal(
            [
                ("2026-12-18", "Inventaire annuel"),
                ("2026-12-24", "Fermeture de Noël"),
                ("2026-12-26", "Fermeture de Noël"),
                ("2027-01-15", "Séminaire d'équipe, tous les services"),
                ("2028-05-01", "Fête du Travail (chaque année)"),
            ],
            added);
        Assert.Equal(2, result.GetProperty("alreadyListed").GetInt32());

        var calendar = await admin.JsonAsync("/api/v1/tenants/acme/calendar");
        Assert.Equal("Europe/Paris", calendar.GetProperty("timeZone").GetString());
        Assert.Equal(["08:30-12:30", "13:30-18:00"], calendar.GetProperty("weeklyHours").GetProperty("monday").EnumerateArray().Select(s => s.GetString()));
        var holidays = Holidays(calendar);
        Assert.Equal(10, holidays.Count); // 5 seeded + 5 imported
        Assert.Equal("Noël", holidays["2026-12-25"]);
        Assert.Equal("Fête du Travail", holidays["2027-05-01"]);
        Assert.Equal(holidays.Keys.Order(StringComparer.Ordinal), holidays.Keys);
        Assert.DoesNotContain("2026-12-07", holidays.Keys);

        // The same file again adds nothing and lists nothing twice.
        var again = JsonDocument.Parse(await (await ImportAsync(admin, "acme", RealWorldCalendar)).Content.ReadAsStringAsync()).RootElement;
        Assert.Empty(again.GetProperty("added").EnumerateArray());
        Assert.Equal(10, Holidays(await admin.JsonAsync("/api/v1/tenants/acme/calendar")).Count);

        await using var scope = App.Services.CreateAsyncScope();
        var audit = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().AuditEvents.Where(e => e.Action == "holidays-imported").ToListAsync();
        var line = Assert.Single(audit);
        Assert.Equal(("admin@prodesk.test", "acme"), (line.ActorName, line.Target));
        Assert.StartsWith("5 added: 2026-12-18 Inventaire annuel", line.Details, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Holidays: 25 December", "not a readable iCalendar file")]
    [InlineData("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nSUMMARY:Unfinished\n", "not a readable iCalendar file")]
    [InlineData("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n", "no VEVENT")]
    [InlineData("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:1\nSUMMARY:When?\nDTSTART:someday\nEND:VEVENT\nEND:VCALENDAR\n", "('When?') has no valid DTSTART")]
    [InlineData("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:1\nSUMMARY:Every second\nDTSTART:20261201T000000Z\nRRULE:FREQ=SECONDLY\nEND:VEVENT\nEND:VCALENDAR\n", "recurs secondly")]
    [InlineData("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:1\nSUMMARY:Sabbatical\nDTSTART;VALUE=DATE:20270101\nDTEND;VALUE=DATE:20290101\nEND:VEVENT\nEND:VCALENDAR\n", "lasts 731 days")]
    public async Task A_malformed_calendar_is_refused_naming_the_body_and_changes_nothing(string ics, string problem)
    {
        var admin = await AdminAsync();
        var before = (await admin.JsonAsync("/api/v1/tenants/acme/calendar")).GetRawText();

        var response = await ImportAsync(admin, "acme", ics);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").GetProperty("body")[0].GetString();
        Assert.Contains(problem, body, StringComparison.Ordinal);
        Assert.Equal(before, (await admin.JsonAsync("/api/v1/tenants/acme/calendar")).GetRawText());
    }

    [Fact]
    public async Task A_calendar_of_another_type_or_over_a_megabyte_is_refused()
    {
        var admin = await AdminAsync();
        var before = (await admin.JsonAsync("/api/v1/tenants/acme/calendar")).GetRawText();

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await ImportAsync(admin, "acme", RealWorldCalendar, "application/json")).StatusCode);
        var huge = RealWorldCalendar.Replace("END:VCALENDAR", $"X-PADDING:{new string('x', 1024 * 1024)}\nEND:VCALENDAR", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await ImportAsync(admin, "acme", huge)).StatusCode);

        Assert.Equal(before, (await admin.JsonAsync("/api/v1/tenants/acme/calendar")).GetRawText());
    }

    [Fact]
    public async Task An_imported_holiday_moves_the_deadline_of_a_new_item_past_it()
    {
        // Monday 16:00 in Paris: 240 business minutes are 2 hours today and 2 hours tomorrow morning.
        var now = App.Clock.GetUtcNow();
        var monday = new DateTimeOffset(now.Date, TimeSpan.Zero).AddHours(15);
        while (monday <= now || monday.DayOfWeek != DayOfWeek.Monday)
        {
            monday = monday.AddDays(1);
        }

        App.Clock.SetUtcNow(monday);
        var tuesday = DateOnly.FromDateTime(monday.UtcDateTime).AddDays(1);
        var admin = await AdminAsync();
        var client = await App.IntegrationClientAsync("acme");

        var before = await client.CreateConversationAsync("acme", "before-holiday");
        var dueBefore = (await admin.JsonAsync($"/api/v1/tenants/acme/work-items/{before}")).GetProperty("sla").GetProperty("dueAt").GetProperty("firstResponse").GetDateTime().ToUniversalTime();
        Assert.Equal(tuesday.ToDateTime(new TimeOnly(9, 30), DateTimeKind.Utc), dueBefore); // Tuesday 10:30 in Paris

        var ics = $"""
            BEGIN:VCALENDAR
            VERSION:2.0
            PRODID:-//Acme//Training//EN
            BEGIN:VEVENT
            UID:training@acme.test
            DTSTART;VALUE=DATE:{tuesday.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}
            SUMMARY:Journée de formation
            END:VEVENT
            END:VCALENDAR
            """;
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync(admin, "acme", ics)).StatusCode);

        var after = await client.CreateConversationAsync("acme", "after-holiday");
        var item = await admin.JsonAsync($"/api/v1/tenants/acme/work-items/{after}");

        // Tuesday is closed now: the remaining 2 hours run on Wednesday from 08:30, due 10:30 in Paris.
        Assert.Equal(tuesday.AddDays(1).ToDateTime(new TimeOnly(9, 30), DateTimeKind.Utc), item.GetProperty("sla").GetProperty("dueAt").GetProperty("firstResponse").GetDateTime().ToUniversalTime());
        var stored = await App.InTenantAsync("acme", db => db.WorkItems.Where(w => w.Id == after).Select(w => w.DueAt).FirstAsync());
        Assert.Equal(tuesday.AddDays(1).ToDateTime(new TimeOnly(9, 30)), stored);

        // Imported by mistake: taken off again, and the next item's deadline is on Tuesday once more.
        var day = tuesday.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var removed = await admin.DeleteAsync($"/api/v1/tenants/acme/calendar/holidays/{day}");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.False(Holidays(await removed.Content.ReadFromJsonAsync<JsonElement>()).ContainsKey(day));
        var again = await client.CreateConversationAsync("acme", "holiday-removed");
        Assert.Equal(dueBefore, (await admin.JsonAsync($"/api/v1/tenants/acme/work-items/{again}")).GetProperty("sla").GetProperty("dueAt").GetProperty("firstResponse").GetDateTime().ToUniversalTime());
        Assert.True(await App.InTenantAsync("acme", db => db.AuditEvents.AnyAsync(e => e.Action == "holiday-removed" && e.Details!.StartsWith(day))));

        // Not a holiday (any more), or not a date: said so.
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/v1/tenants/acme/calendar/holidays/{day}")).StatusCode);
        var notADate = await admin.DeleteAsync("/api/v1/tenants/acme/calendar/holidays/25-12-2026");
        Assert.Equal(HttpStatusCode.BadRequest, notADate.StatusCode);
        Assert.True((await notADate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("date", out _));
    }
}
