using System.Text.Json.Serialization;
using ProDesk.Domain.Sla;
using ProDesk.Web.Hosting;

namespace ProDesk.Web.Sla;

/// <summary>
/// A tenant's business calendar as stored (Tenant.CalendarJson) and as written in
/// tenants-seed/SLUG/tenant.json under "calendar".
/// </summary>
public sealed class CalendarDocument
{
    /// <summary>Open around the clock (sla-lab); weeklyHours must then be empty.</summary>
    public bool AlwaysOpen { get; set; }

    /// <summary>Weekday name (monday..sunday) to spans like "09:00-17:30"; a missing day is closed.</summary>
    public Dictionary<string, List<string>> WeeklyHours { get; set; } = [];

    public List<HolidayDocument> Holidays { get; set; } = [];

    /// <summary>The week, or the first problem found with the JSON path of the field at fault.</summary>
    public WeeklyHours? ToWeeklyHours(out string? error)
    {
        error = null;
        if (AlwaysOpen)
        {
            if (WeeklyHours.Count > 0)
            {
                error = "weeklyHours: must be empty when alwaysOpen is true";
                return null;
            }

            return Domain.Sla.WeeklyHours.AlwaysOpen;
        }

        var days = new Dictionary<DayOfWeek, IReadOnlyList<TimeRange>>();
        foreach (var (name, spans) in WeeklyHours)
        {
            if (!EnumNames.TryParse<DayOfWeek>(name, ignoreCase: true, out var day))
            {
                error = $"weeklyHours.{name}: not a weekday (monday..sunday)";
                return null;
            }

            var parsed = new List<TimeRange>();
            for (var i = 0; i < spans.Count; i++)
            {
                if (TimeRange.TryParse(spans[i], out var spanError) is not { } span)
                {
                    error = $"weeklyHours.{name}[{i}]: '{spans[i]}' {spanError}";
                    return null;
                }

                parsed.Add(span);
            }

            days[day] = parsed;
        }

        var week = Domain.Sla.WeeklyHours.Create(days, out var weekError);
        if (week is null)
        {
            error = $"weeklyHours: {weekError}";
            return null;
        }

        if (week.TotalPerWeek == TimeSpan.Zero)
        {
            error = "weeklyHours: the tenant is never open; give opening hours or set alwaysOpen";
            return null;
        }

        var seen = new HashSet<DateOnly>();
        for (var i = 0; i < Holidays.Count; i++)
        {
            if (!seen.Add(Holidays[i].Date))
            {
                error = $"holidays[{i}].date: {Holidays[i].Date:yyyy-MM-dd} is listed twice";
                return null;
            }
        }

        return week;
    }
}

public sealed class HolidayDocument
{
    public DateOnly Date { get; set; }

    [JsonRequired]
    public string Name { get; set; } = "";
}
