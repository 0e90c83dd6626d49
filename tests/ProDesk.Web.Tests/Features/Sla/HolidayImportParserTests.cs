using ProDesk.Web.Sla;

namespace ProDesk.Web.Tests.Features.Sla;

/// <summary>How iCalendar events become holiday dates, without a database: the cases real files bring.</summary>
public sealed class HolidayImportParserTests
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    private static readonly DateOnly Today = new(2026, 11, 30);

    private static string Calendar(params string[] events) =>
        $"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{string.Concat(events.Select((e, i) => $"BEGIN:VEVENT\r\nUID:{i}@test\r\n{e.ReplaceLineEndings("\r\n")}\r\nEND:VEVENT\r\n"))}END:VCALENDAR\r\n";

    private static List<string> Dates(string ics)
    {
        var holidays = HolidayImport.Parse(ics, Paris, Today, out var error);
        Assert.True(holidays is not null, error);
        return [.. holidays.Select(h => $"{h.Date:yyyy-MM-dd} {h.Name}")];
    }

    [Fact]
    public void An_all_day_event_with_a_duration_covers_each_of_its_days()
    {
        Assert.Equal(
            ["2027-08-02 Congés d'été", "2027-08-03 Congés d'été", "2027-08-04 Congés d'été"],
            Dates(Calendar("DTSTART;VALUE=DATE:20270802\nDURATION:P3D\nSUMMARY:Congés d'été")));
    }

    [Fact]
    public void Outlook_zone_names_are_understood_and_an_unknown_zone_keeps_the_date_as_written()
    {
        Assert.Equal(
            ["2027-02-01 Custom zone", "2027-02-02 Windows zone"],
            Dates(Calendar(
                // 23:30 in New York is 05:30 the next day in Paris.
                "DTSTART;TZID=Eastern Standard Time:20270201T233000\nSUMMARY:Windows zone",
                "DTSTART;TZID=Acme Head Office Time:20270201T100000\nSUMMARY:Custom zone")));
    }

    [Fact]
    public void A_recurring_event_skips_its_exceptions_and_stops_two_years_ahead()
    {
        Assert.Equal(
            ["2027-06-07 Lundi du pont"], // 2028-06-05 is an exception; 2029 is more than two years ahead
            Dates(Calendar("DTSTART;VALUE=DATE:20250602\nRRULE:FREQ=YEARLY;BYMONTH=6;BYDAY=1MO\nEXDATE;VALUE=DATE:20280605\nSUMMARY:Lundi du pont")));
    }

    [Fact]
    public void A_rule_that_would_give_several_occurrences_a_day_is_refused_before_it_is_expanded()
    {
        Assert.Null(HolidayImport.Parse(Calendar("DTSTART:20261201T000000Z\nRRULE:FREQ=DAILY;BYHOUR=0,6,12,18;BYMINUTE=0,1,2,3,4,5;BYSECOND=0,1,2\nSUMMARY:Shifts"), Paris, Today, out var error));
        Assert.Contains("recurs daily or within a day", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_date_at_the_end_of_the_calendar_is_refused_in_words_not_with_a_runtime_message()
    {
        Assert.Null(HolidayImport.Parse(Calendar("DTSTART;VALUE=DATE:20261225\nSUMMARY:Christmas", "DTSTART;VALUE=DATE:99991231\nSUMMARY:far"), Paris, Today, out var error));
        Assert.Equal("event 2 ('far') has a date out of range", error);
    }
}
