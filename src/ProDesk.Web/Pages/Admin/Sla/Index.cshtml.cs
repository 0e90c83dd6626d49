using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Identity;
using ProDesk.Web.Sla;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Pages.Admin.Sla;

/// <summary>
/// A provider admin picks a client, sees its SLA policy per queue and priority with every earlier version,
/// saves a change as a new version, and imports holidays into its business calendar from an .ics file.
/// The client is the route's <c>{tenant}</c>, so the request runs in that tenant's scope like the API does.
/// </summary>
[Authorize(Policy = CurrentSession.ProviderAdminPolicy)]
public sealed class IndexModel(ITenantContext tenantContext, ITenantStore tenantStore, ProDeskDbContext db, ChangeSlaPolicy change, ImportHolidays import) : PageModel
{
    public static readonly string[] Priorities = [.. Enum.GetValues<WorkItemPriority>().OrderDescending().Select(p => p.ToString())];

    public static readonly string[] PauseChoices = [nameof(WorkItemStatus.Pending), nameof(WorkItemStatus.OnHold)];

    public IReadOnlyList<TenantInfo> Tenants { get; private set; } = [];

    /// <summary>The client shown, from the route; null on the bare /admin/sla.</summary>
    public TenantInfo? Client { get; private set; }

    public IReadOnlyList<string> Queues { get; private set; } = [];

    public SlaPoliciesView? Policies { get; private set; }

    public CalendarView? Calendar { get; private set; }

    /// <summary>The queue and priority whose edit form is open.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Queue { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Priority { get; set; }

    [BindProperty]
    public PolicyForm Form { get; set; } = new();

    /// <summary>Problems with the posted form, by form field (or "" for the form as a whole).</summary>
    public Dictionary<string, List<string>> Errors { get; } = [];

    public string? Message { get; private set; }

    public IReadOnlyList<HolidayDocument> Added { get; private set; } = [];

    public SlaPolicyView? Current(string queue, string priority) =>
        Policies?.Policies.FirstOrDefault(p => p.Queue == queue && p.Priority == priority);

    public async Task<IActionResult> OnGetAsync(string? client, string? saved, CancellationToken cancellationToken)
    {
        if (RouteTenant is null && !string.IsNullOrEmpty(client))
        {
            // The chooser is a plain GET form; the client then lives in the path, which scopes the request.
            return Redirect($"/admin/sla/{Uri.EscapeDataString(client)}");
        }

        await LoadAsync(cancellationToken);
        if (saved?.Split('/') is [var queue, var priority] && Current(queue, priority) is { } policy)
        {
            Message = $"Saved: {queue} / {priority} is now version {policy.Version}. Items already started keep the version they started under.";
        }

        if (Queue is not null && Priority is not null)
        {
            if (!Queues.Contains(Queue) || !Priorities.Contains(Priority))
            {
                return NotFound();
            }

            Form = PolicyForm.From(Current(Queue, Priority));
        }

        return Page();
    }

    public async Task<IActionResult> OnPostPolicyAsync(CancellationToken cancellationToken)
    {
        if (RouteTenant is not { } tenant || Queue is null || Priority is null)
        {
            return NotFound();
        }

        foreach (var (key, entry) in ModelState)
        {
            if (entry.Errors.Count > 0 && key.StartsWith("Form.", StringComparison.Ordinal))
            {
                AddError(key["Form.".Length..], "must be a whole number of minutes, or empty for no target");
            }
        }

        var request = Form.ToRequest(this);
        if (Errors.Count == 0)
        {
            var result = await change.HandleAsync(tenant, Queue, Priority, request, User, cancellationToken);
            switch (result.Outcome)
            {
                case ChangeSlaPolicy.Outcome.NotFound:
                    return NotFound();
                case ChangeSlaPolicy.Outcome.Added:
                    return Redirect($"/admin/sla/{Uri.EscapeDataString(tenant.Slug)}?saved={Uri.EscapeDataString($"{Queue}/{result.Policy!.Priority}")}");
                case ChangeSlaPolicy.Outcome.Unchanged:
                    Message = $"Nothing changed: {Queue} / {Priority} stays at version {result.Policy!.Version}.";
                    Queue = Priority = null;
                    break;
                case ChangeSlaPolicy.Outcome.Invalid:
                    foreach (var (field, messages) in result.Errors!)
                    {
                        foreach (var message in messages)
                        {
                            AddApiError(field, message);
                        }
                    }

                    break;
            }
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostHolidaysAsync(IFormFile? ics, CancellationToken cancellationToken)
    {
        if (RouteTenant is not { } tenant)
        {
            return NotFound();
        }

        if (ics is null || ics.Length == 0)
        {
            AddError("ics", "choose an .ics file to import");
        }
        else if (ics.Length > HolidayImport.MaxBytes)
        {
            AddError("ics", $"the file is larger than {HolidayImport.MaxBytes / 1024} KB");
        }
        else
        {
            using var buffer = new MemoryStream();
            await ics.CopyToAsync(buffer, cancellationToken);
            var result = await import.HandleAsync(tenant, CalendarApi.Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)), User, cancellationToken);
            if (result.Error is { } error)
            {
                AddError("ics", error);
            }
            else
            {
                Added = result.Added;
                Message = result.Added.Count == 0
                    ? $"Nothing to add: the {result.AlreadyListed} date(s) of {ics.FileName} are already holidays."
                    : $"Imported {result.Added.Count} holiday(s) from {ics.FileName}" + (result.AlreadyListed > 0 ? $"; {result.AlreadyListed} date(s) were already listed." : ".");
            }
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRemoveHolidayAsync(string? date, CancellationToken cancellationToken)
    {
        if (RouteTenant is not { } tenant)
        {
            return NotFound();
        }

        if (!DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            Message = "Choose a holiday to remove.";
        }
        else
        {
            Message = await import.RemoveAsync(tenant, day, User, cancellationToken) is null
                ? $"{day:yyyy-MM-dd} was not a holiday (any more)."
                : $"{day:yyyy-MM-dd} is a working day again; deadlines computed from now on count it.";
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    /// <summary>The tenant of the route (whose scope the request runs in); never a tenant picked up from the host or the caller's claims.</summary>
    private TenantInfo? RouteTenant => RouteData.Values.TryGetValue(TenantResolutionMiddleware.RouteValue, out var slug) && slug is string ? tenantContext.Current : null;

    public IEnumerable<string> ErrorsOf(string field) => Errors.TryGetValue(field, out var messages) ? messages : [];

    internal void AddError(string field, string message)
    {
        if (!Errors.TryGetValue(field, out var messages))
        {
            Errors[field] = messages = [];
        }

        messages.Add(message);
    }

    /// <summary>The API's field names ("escalations[1].queue") as the form's fields and lines.</summary>
    private void AddApiError(string field, string message)
    {
        var bracket = field.IndexOf('[', StringComparison.Ordinal);
        var name = bracket < 0 ? field : field[..bracket];
        var formField = name switch
        {
            "firstResponseMinutes" => nameof(PolicyForm.FirstResponseMinutes),
            "nextResponseMinutes" => nameof(PolicyForm.NextResponseMinutes),
            "resolutionMinutes" => nameof(PolicyForm.ResolutionMinutes),
            "warningPercents" => nameof(PolicyForm.WarningPercents),
            "pauseStatuses" => nameof(PolicyForm.PauseStatuses),
            "escalations" => nameof(PolicyForm.Escalations),
            _ => "",
        };
        if (name == "escalations" && bracket >= 0 && int.TryParse(field[(bracket + 1)..field.IndexOf(']', StringComparison.Ordinal)], out var index))
        {
            var part = field[(field.IndexOf(']', StringComparison.Ordinal) + 1)..].TrimStart('.');
            AddError(formField, $"line {index + 1}: {(part.Length > 0 ? part + " " : "")}{message}");
        }
        else
        {
            AddError(formField, formField.Length == 0 ? $"{field} {message}" : message);
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Tenants = await tenantStore.ListAsync(cancellationToken);
        Client = RouteTenant;
        if (Client is null)
        {
            return;
        }

        Queues = await db.Queues.AsNoTracking().OrderByDescending(q => q.IsDefault).ThenBy(q => q.Key).Select(q => q.Key).ToListAsync(cancellationToken);
        Policies = await SlaPolicyApi.LoadAsync(db, Client.Slug, cancellationToken);
        var row = await db.Tenants.AsNoTracking().Where(t => t.Id == Client.Id).Select(t => new { t.CalendarJson, t.TimeZone }).FirstAsync(cancellationToken);
        Calendar = CalendarView.From(Client.Slug, row.TimeZone, JsonSerializer.Deserialize<CalendarDocument>(row.CalendarJson, JsonSerializerOptions.Web) ?? new CalendarDocument());
    }

    /// <summary>The edit form: numbers as numbers, warnings as "75, 90", escalations one per line ("breach moveToQueue billing").</summary>
    public sealed class PolicyForm
    {
        public int? FirstResponseMinutes { get; set; }

        public int? NextResponseMinutes { get; set; }

        public int? ResolutionMinutes { get; set; }

        public string? WarningPercents { get; set; }

        public List<string> PauseStatuses { get; set; } = [];

        public string? Escalations { get; set; }

        public static PolicyForm From(SlaPolicyView? policy) => policy is null
            ? new PolicyForm
            {
                WarningPercents = string.Join(", ", SlaPolicyRules.DefaultWarningPercents),
                PauseStatuses = [.. SlaPolicyRules.DefaultPauseStatuses],
            }
            : new PolicyForm
            {
                FirstResponseMinutes = policy.FirstResponseMinutes,
                NextResponseMinutes = policy.NextResponseMinutes,
                ResolutionMinutes = policy.ResolutionMinutes,
                WarningPercents = string.Join(", ", policy.WarningPercents),
                PauseStatuses = [.. policy.PauseStatuses],
                Escalations = string.Join("\n", policy.Escalations.Select(Line)),
            };

        public static string Line(SlaEscalation e) => e.Queue is null ? $"{e.On} {e.Action}" : $"{e.On} {e.Action} {e.Queue}";

        internal ChangeSlaPolicy.Request ToRequest(IndexModel page)
        {
            var warnings = new List<int>();
            foreach (var part in (WarningPercents ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var percent))
                {
                    warnings.Add(percent);
                }
                else
                {
                    page.AddError(nameof(WarningPercents), $"'{part}' is not a whole number");
                }
            }

            var escalations = new List<ChangeSlaPolicy.EscalationRequest?>();
            foreach (var line in (Escalations ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words.Length is < 2 or > 3)
                {
                    page.AddError(nameof(Escalations), $"line {escalations.Count + 1}: write 'when action [queue]', e.g. 'breach moveToQueue billing'");
                }

                escalations.Add(new ChangeSlaPolicy.EscalationRequest(words.ElementAtOrDefault(0), words.ElementAtOrDefault(1), words.ElementAtOrDefault(2)));
            }

            return new ChangeSlaPolicy.Request(FirstResponseMinutes, NextResponseMinutes, ResolutionMinutes, warnings, PauseStatuses, escalations);
        }
    }
}
