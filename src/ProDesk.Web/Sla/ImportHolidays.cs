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
/// A holiday can be taken off again, one date at a time (before, a wrong import could not be undone; probe round 17).
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

        IReadOnlyList<HolidayDocument> added = [];
        string? refused = null;
        var calendar = await ChangeAsync(tenant, document =>
        {
            var listed = document.Holidays.Select(h => h.Date).ToHashSet();
            added = [.. imported.Where(h => !listed.Contains(h.Date))];
            if (added.Count == 0)
            {
                return false;
            }

            if (document.Holidays.Count + added.Count > MaxHolidays)
            {
                refused = $"the calendar would list {document.Holidays.Count + added.Count} holidays; at most {MaxHolidays}";
                return false;
            }

            document.Holidays = [.. document.Holidays.Concat(added).OrderBy(h => h.Date)];
            if (document.ToWeeklyHours(out var calendarError) is null)
            {
                refused = $"the merged calendar is invalid: {calendarError}";
                return false;
            }

            return true;
        }, AuditLog.HolidaysImported, () => Describe(added), actor, cancellationToken);
        return refused is not null ? Result.Failed(refused) : new Result(added, imported.Count - added.Count, calendar, null);
    }

    /// <summary>
    /// Takes <paramref name="date"/> off the tenant's holidays (an import brought a wrong one, or the client opens after
    /// all): deadlines computed from now on count it as a working day. Null when it was not a holiday.
    /// </summary>
    public async Task<CalendarView?> RemoveAsync(TenantInfo tenant, DateOnly date, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        HolidayDocument? removed = null;
        var calendar = await ChangeAsync(tenant, document =>
        {
            removed = document.Holidays.FirstOrDefault(h => h.Date == date);
            if (removed is null)
            {
                return false;
            }

            document.Holidays = [.. document.Holidays.Where(h => h.Date != date)];
            return true;
        }, AuditLog.HolidayRemoved, () => $"{date:yyyy-MM-dd} {removed!.Name}", actor, cancellationToken);
        return removed is null ? null : calendar;
    }

    /// <summary>
    /// Applies <paramref name="change"/> (true when it changed the document) to the stored calendar as a compare-and-swap
    /// on its JSON, so two changes at once both land; audits it and refreshes the tenant registry. The calendar as it is after.
    /// </summary>
    private async Task<CalendarView> ChangeAsync(
        TenantInfo tenant, Func<CalendarDocument, bool> change, string auditAction, Func<string> details, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var row = await db.Tenants.AsNoTracking().Where(t => t.Id == tenant.Id).Select(t => new { t.CalendarJson, t.TimeZone }).FirstAsync(cancellationToken);
            var document = JsonSerializer.Deserialize<CalendarDocument>(row.CalendarJson, JsonSerializerOptions.Web) ?? new CalendarDocument();
            if (!change(document))
            {
                return CalendarView.From(tenant.Slug, row.TimeZone, JsonSerializer.Deserialize<CalendarDocument>(row.CalendarJson, JsonSerializerOptions.Web) ?? new CalendarDocument());
            }

            var json = JsonSerializer.Serialize(document, JsonSerializerOptions.Web);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var updated = await db.Tenants.Where(t => t.Id == tenant.Id && t.CalendarJson == row.CalendarJson)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.CalendarJson, json), cancellationToken);
            if (updated == 0)
            {
                if (attempt >= 3)
                {
                    throw new DbUpdateConcurrencyException($"The calendar of tenant {tenant.Slug} kept changing meanwhile.");
                }

                continue;
            }

            await audit.RecordAsync(auditAction, actor, tenant.Slug, tenant.Id, details(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);

            // The tenant store reloads its snapshot; per-tenant options are keyed by the TenantInfo record, so the
            // new calendar (a new record) gets fresh options. Other nodes follow within TenantStore.SnapshotLifetime.
            tenants.Invalidate();
            return CalendarView.From(tenant.Slug, row.TimeZone, document);
        }
    }

    private static string Describe(IReadOnlyList<HolidayDocument> added)
    {
        const int Shown = 100;
        var listed = string.Join(", ", added.Take(Shown).Select(h => $"{h.Date:yyyy-MM-dd} {h.Name}"));
        return added.Count > Shown ? $"{added.Count} added: {listed}, …" : $"{added.Count} added: {listed}";
    }
}
