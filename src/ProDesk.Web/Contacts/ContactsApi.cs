using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Contacts;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Contacts;

/// <summary>A contact; <c>OtherEmails</c> and <c>OtherPhones</c> are its further identities (a merge's, staff's).</summary>
public sealed record ContactView(Guid Id, string Name, string? Email, string? Phone, string? Company, DateTime CreatedAt, int Version,
    IReadOnlyList<string> OtherEmails, IReadOnlyList<string> OtherPhones)
{
    public static ContactView From(Contact c, IEnumerable<ContactIdentity> identities)
    {
        var own = identities.Where(i => i.ContactId == c.Id).OrderBy(i => i.CreatedAt).ThenBy(i => i.Value).ToList();
        return new(c.Id, c.Name, c.Email, c.Phone, c.Company, c.CreatedAt, c.Version,
            [.. own.Where(i => i.Kind == ContactIdentity.EmailKind).Select(i => i.Value)],
            [.. own.Where(i => i.Kind == ContactIdentity.PhoneKind).Select(i => i.Value)]);
    }
}

public sealed record ContactPage(IReadOnlyList<ContactView> Items, string? NextCursor);

/// <summary>A contact and its items, newest first (at most <see cref="ContactsApi.ItemsShown"/>; the work-items list has the rest).</summary>
public sealed record ContactDetail(ContactView Contact, IReadOnlyList<WorkItemSummary> Items);

/// <summary>A tenant's contacts (its customers, one per person across email, phone and chat) for provider staff.</summary>
public static class ContactsApi
{
    public const int ItemsShown = 100;

    public sealed record MergeRequest(string? From);

    public static RouteGroupBuilder MapContactsApi(this IEndpointRouteBuilder app)
    {
        var contacts = app.MapGroup("/api/v1/tenants/{tenant}/contacts").RequireAuthorization(WorkItemsApi.StaffPolicy).WithTags("Contacts");
        contacts.MapGet("", ListAsync).WithName("ListContacts")
            .WithSummary("Contacts by name, cursor-paginated; `q` searches name, email and phone.");
        contacts.MapGet("/{id:guid}", GetAsync).WithVersionTag().WithName("GetContact").WithSummary("One contact with its items, newest first.");
        contacts.MapPut("/{id:guid}", UpdateAsync).WithVersionCheck().WithName("UpdateContact")
            .WithSummary("Sets the contact's name, email, phone and company (the whole contact: an absent field is cleared), and with `otherEmails` / `otherPhones` its further identities (left out: kept as they are); 409 when another contact has the email or phone. With the contact's `version` as loaded (or If-Match: the ETag of its GET), refused with 409 (412 for If-Match) and the contact as it is when it changed since.");
        contacts.MapPost("/{id:guid}/merge", MergeAsync).ProducesProblem(StatusCodes.Status409Conflict).WithName("MergeContacts")
            .WithSummary("Merges the contact `from` into this one: its items move here, its email and phone too (as further identities where this one has its own), and it is deleted (audited).");
        return contacts;
    }

    public static void AddContacts(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<UpdateContact>();
        builder.Services.AddScoped<MergeContacts>();
    }

    private static async Task<Results<Ok<ContactPage>, ValidationProblem>> ListAsync(
        string? q, string? cursor, int? limit, HttpRequest request, ProDeskDbContext db, ITenantContext tenants, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var query = db.Contacts.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(q))
        {
            if (q.Length > 200)
            {
                errors["q"] = ["must be at most 200 characters"];
            }

            // Lower on both sides works the same on PostgreSQL and SQLite (no ILIKE there); emails are stored lowercase,
            // phones normalised, so a typed "+33 1 23" finds "+33123...".
            var text = q.Trim().ToLowerInvariant();
            // A whole national number ("06 12 34 56 78") finds its E.164 spelling too, as it is stored now.
            var phone = Domain.Contacts.PhoneNumber.Normalize(text) ?? text;
            var complete = Domain.Contacts.PhoneNumber.Normalize(text, Domain.Contacts.PhoneRegion.OfTimeZone(tenants.Current?.TimeZone)) ?? phone;
#pragma warning disable CA1862 // In SQL: the StringComparison overloads do not translate on both providers.
            query = query.Where(c => c.Name.ToLower().Contains(text) || (c.Email != null && c.Email.Contains(text)) || (c.Phone != null && (c.Phone.Contains(phone) || c.Phone == complete))
                || db.ContactIdentities.Any(i => i.ContactId == c.Id && (i.Kind == ContactIdentity.EmailKind ? i.Value.Contains(text) : i.Value.Contains(phone) || i.Value == complete)));
#pragma warning restore CA1862
        }

        if (KeysetCursor.AfterText(request, cursor, errors) is { } after)
        {
            query = query.Where(c => string.Compare(c.Name, after.Key) > 0 || (c.Name == after.Key && c.Id.CompareTo(after.Id) > 0));
        }

        var size = KeysetCursor.PageSize(limit, 50, errors);

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var page = await query.OrderBy(c => c.Name).ThenBy(c => c.Id).Take(size + 1).ToListAsync(cancellationToken);
        var next = page.Count > size ? KeysetCursor.Write(request, page[size - 1].Name, page[size - 1].Id) : null;
        var shown = page.Take(size).ToList();
        var ids = shown.Select(c => c.Id).ToList();
        var identities = await db.ContactIdentities.AsNoTracking().Where(i => ids.Contains(i.ContactId)).ToListAsync(cancellationToken);
        return TypedResults.Ok(new ContactPage([.. shown.Select(c => ContactView.From(c, identities))], next));
    }

    private static async Task<Results<Ok<ContactDetail>, NotFound>> GetAsync(Guid id, HttpResponse response, ProDeskDbContext db, CancellationToken cancellationToken)
    {
        if (await DetailAsync(db, id, cancellationToken) is not { } detail)
        {
            return TypedResults.NotFound();
        }

        // The version as a strong ETag, for an update's If-Match.
        VersionPrecondition.SetETag(response, detail.Contact.Version);
        return TypedResults.Ok(detail);
    }

    private static async Task<Results<Ok<ContactDetail>, NotFound, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateContact.Request request, HttpContext context, UpdateContact update, ProDeskDbContext db, CancellationToken cancellationToken)
    {
        if (VersionPrecondition.Read(context.Request, request.Version, out var basedOn) is { } bad)
        {
            return bad;
        }

        var result = await update.HandleAsync(id, request, basedOn.Version, cancellationToken);
        return result.Outcome switch
        {
            UpdateContact.Outcome.Updated => await DetailAsync(db, id, cancellationToken) is { } detail
                ? Tagged(context.Response, detail) : TypedResults.NotFound(),
            UpdateContact.Outcome.Stale when result.Current is { } current => StaleProblem(context.Response,
                ContactView.From(current, await db.ContactIdentities.AsNoTracking().Where(i => i.ContactId == id).ToListAsync(cancellationToken)), basedOn.StaleStatus),
            UpdateContact.Outcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            UpdateContact.Outcome.Taken => TakenProblem(result.Field!, result.OtherContactId),
            _ => TypedResults.NotFound(),
        };
    }

    private static async Task<Results<Ok<ContactDetail>, NotFound, ValidationProblem, ProblemHttpResult>> MergeAsync(
        Guid id, MergeRequest request, MergeContacts merge, ProDeskDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(request.From, out var from))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["from"] = ["is required: the id of the contact to merge into this one"] });
        }

        var result = await merge.HandleAsync(id, from, user, cancellationToken);
        return result.Outcome switch
        {
            MergeContacts.Outcome.Merged => await DetailAsync(db, id, cancellationToken) is { } detail ? TypedResults.Ok(detail) : TypedResults.NotFound(),
            MergeContacts.Outcome.Invalid => TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["from"] = [result.Error!] }),
            MergeContacts.Outcome.Busy => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The contacts changed while merging",
                detail: "New items arrived for them meanwhile; nothing was merged. Try again."),
            _ => TypedResults.NotFound(),
        };
    }

    private static Ok<ContactDetail> Tagged(HttpResponse response, ContactDetail detail)
    {
        VersionPrecondition.SetETag(response, detail.Contact.Version);
        return TypedResults.Ok(detail);
    }

    /// <summary>
    /// The work items' stale answer for a contact: 409 (412 for If-Match) with <c>reason</c> "changed", the
    /// <c>version</c> and the contact as it is now in <c>current</c>. Nothing was changed.
    /// </summary>
    private static ProblemHttpResult StaleProblem(HttpResponse response, ContactView current, int status)
    {
        VersionPrecondition.SetETag(response, current.Version);
        return TypedResults.Problem(
            statusCode: status,
            title: "The contact changed since it was loaded",
            detail: $"Nothing was changed: it is now at version {current.Version}. Load it again and make the change on what it holds now.",
            extensions: new Dictionary<string, object?> { ["reason"] = "changed", ["version"] = current.Version, ["current"] = current });
    }

    /// <summary>409 naming the field and the contact that has it, so the caller can merge the two instead.</summary>
    internal static ProblemHttpResult TakenProblem(string field, Guid? otherContactId) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "Already another contact's",
            detail: $"{field}: another contact of this tenant has it; merge the two contacts instead",
            extensions: new Dictionary<string, object?> { ["field"] = field, ["contactId"] = otherContactId });

    private static async Task<ContactDetail?> DetailAsync(ProDeskDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var contact = await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (contact is null)
        {
            return null;
        }

        var items = await db.WorkItems.AsNoTracking().Where(w => w.ContactId == id)
            .OrderByDescending(w => w.CreatedAt).ThenByDescending(w => w.Id).Take(ItemsShown).ToListAsync(cancellationToken);
        var queueIds = items.Select(w => w.QueueId).Distinct().ToList();
        var queues = await db.Queues.AsNoTracking().Where(q => queueIds.Contains(q.Id)).ToDictionaryAsync(q => q.Id, q => q.Key, cancellationToken);
        var identities = await db.ContactIdentities.AsNoTracking().Where(i => i.ContactId == id).ToListAsync(cancellationToken);
        return new ContactDetail(ContactView.From(contact, identities), [.. items.Select(w => w.Summary(queues.GetValueOrDefault(w.QueueId, "")))]);
    }
}
