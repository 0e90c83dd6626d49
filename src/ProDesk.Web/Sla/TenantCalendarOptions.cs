using System.Text.Json;
using ProDesk.Domain.Sla;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Sla;

/// <summary>A tenant's business calendar, ready for deadline arithmetic (per-tenant options).</summary>
public sealed class TenantCalendarOptions
{
    public TimeZoneInfo TimeZone { get; private set; } = TimeZoneInfo.Utc;

    public WeeklyHours Hours { get; private set; } = WeeklyHours.AlwaysOpen;

    public IReadOnlySet<DateOnly> Holidays { get; private set; } = new HashSet<DateOnly>();

    /// <summary>The calendar that SLA deadlines are computed on.</summary>
    public BusinessCalendar Calendar { get; private set; } = new(TimeZoneInfo.Utc, WeeklyHours.AlwaysOpen);

    internal void Load(TenantInfo tenant)
    {
        TimeZone = TimeZoneInfo.FindSystemTimeZoneById(tenant.TimeZone);
        var document = JsonSerializer.Deserialize<CalendarDocument>(tenant.CalendarJson, JsonSerializerOptions.Web) ?? new CalendarDocument();
        Hours = document.ToWeeklyHours(out var error)
            ?? throw new InvalidOperationException($"Tenant {tenant.Slug} has an invalid calendar: {error}");
        Holidays = document.Holidays.Select(h => h.Date).ToHashSet();
        Calendar = new BusinessCalendar(TimeZone, Hours, Holidays);
    }
}
