using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Audit;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Sla;

/// <summary>
/// A provider admin imports holidays from an iCalendar file into a tenant's business calendar: the
/// file's dates are merged with the holidays already listed (a date listed before keeps its name), the
/// tenant registry is refreshed so that deadlines computed from now on skip them, and the import is audited.
/// </summary>
public sealed class ImportHolidays(ProDeskDbContext db, ITenantStore tenants, ITenantOptions<TenantCalendarOptions> calendars, AuditLog audit, TimeProvider clock)
{
    /// <summary>Keeps the stored calendar (parsed on every options build) small.</summary>
    public const int MaxHolidays = 5_000;

    public sealed record Result(IReadOnlyList<HolidayDocument> Added, int AlreadyListed, CalendarView? Calendar, string? Error)
    {
        public static Result Failed(string error) => new([], 0, null, error);
    }

    public async Task<Result> HandleAsync(TenantInfo tenant, string ics, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var zone = calendars.OfTenant(tenant).TimeZone;
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), zone).DateTime);
        if (HolidayImport.Parse(ics, zone, today, out var error) is not { } imported)
        {
            return Result.Failed(error!);
        }

        // Compare-and-swap on the stored JSON: two imports at once both land, neither overwrites the other.
        for (var attempt = 1; ; attempt++)
        {
            var row = await db.Tenants.AsNoTracking().Where(t => t.Id == tenant.Id).Select(t => new { t.CalendarJson, t.TimeZone }).FirstAsync(cancellationToken);
            var document = JsonSerializer.Deserialize<CalendarDocument>(row.CalendarJson, JsonSerializerOptions.Web) ?? new CalendarDocument();
            var listed = document.Holidays.Select(h => h.Date).ToHashSet();
            var added = imported.Where(h => !listed.Contains(h.Date)).ToList();
            if (added.Count == 0)
            {
                return new Result([], imported.Count, CalendarView.From(tenant.Slug, row.TimeZone, document), null);
            }

            if (document.Holidays.Count + added.Count > MaxHolidays)
            {
                return Result.Failed($"the calendar would list {document.Holidays.Count + added.Count} holidays; at most {MaxHolidays}");
            }

            document.Holidays = [.. document.Holidays.Concat(added).OrderBy(h => h.Date)];
            if (document.ToWeeklyHours(out var calendarError) is null)
            {
                return Result.Failed($"the merged calendar is invalid: {calendarError}");
            }

            var json = JsonSerializer.Serialize(document, JsonSerializerOptions.Web);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var updated = await db.Tenants.Where(t => t.Id == tenant.Id && t.CalendarJson == row.CalendarJson)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.CalendarJson, json), cancellationToken);
            if (updated == 0)
            {
                if (attempt >= 3)
                {
                    throw new DbUpdateConcurrencyException($"The calendar of tenant {tenant.Slug} kept changing during a holiday import.");
                }

                continue;
            }

            await audit.RecordAsync(AuditLog.HolidaysImported, actor, tenant.Slug, tenant.Id,
                Describe(added), cancellationToken);
            await transaction.CommitAsync(cancellationToken);

            // The tenant store reloads its snapshot; per-tenant options are keyed by the TenantInfo record, so the
            // new calendar (a new record) gets fresh options. Other nodes follow within TenantStore.SnapshotLifetime.
            tenants.Invalidate();
            return new Result(added, imported.Count - added.Count, CalendarView.From(tenant.Slug, row.TimeZone, document), null);
        }
    }

    private static string Describe(List<HolidayDocument> added)
    {
        const int Shown = 100;
        var listed = string.Join(", ", added.Take(Shown).Select(h => $"{h.Date:yyyy-MM-dd} {h.Name}"));
        return added.Count > Shown ? $"{added.Count} added: {listed}, …" : $"{added.Count} added: {listed}";
    }
}
