using System.Security.Claims;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.CannedReplies;
using ProDesk.Data.Identity;
using ProDesk.Domain.CannedReplies;
using ProDesk.Web.Channels;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.CannedReplies;

public sealed record CannedReplyView(Guid Id, string Title, string Body, string? Shortcut, string? UpdatedBy, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static CannedReplyView From(CannedReply c) => new(c.Id, c.Title, c.Body, c.Shortcut, c.UpdatedBy, c.CreatedAt, c.UpdatedAt);
}

public sealed record CannedReplyPage(IReadOnlyList<CannedReplyView> Items, IReadOnlyList<string> Placeholders, string? NextCursor);

/// <summary>The canned reply's body with the item's values in place; the placeholders it could not fill are named.</summary>
public sealed record RenderedCannedReply(Guid Id, string Title, string Body, IReadOnlyList<string> Missing, IReadOnlyList<string> Unknown);

/// <summary>A tenant's canned replies: every agent reads them and inserts them rendered for an item; supervisors and provider admins write them.</summary>
public static partial class CannedRepliesApi
{
    public const int MaxBodyLength = 20_000;

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record Request(string? Title, string? Body, string? Shortcut);

    public static RouteGroupBuilder MapCannedRepliesApi(this IEndpointRouteBuilder app)
    {
        var tenant = app.MapGroup("/api/v1/tenants/{tenant}").RequireAuthorization(WorkItemsApi.StaffPolicy).WithTags("Canned replies");
        var canned = tenant.MapGroup("/canned-replies");
        canned.MapGet("", ListAsync).WithName("ListCannedReplies")
            .WithSummary("The tenant's canned replies by title, cursor-paginated; `q` searches title and shortcut. Lists the placeholders a body may use.");
        canned.MapGet("/{id:guid}", GetAsync).WithName("GetCannedReply").WithSummary("One canned reply, placeholders unfilled.");

        var editors = canned.MapGroup("").RequireAuthorization(p => p.RequireRole(Roles.ProviderAdmin, Roles.Supervisor));
        editors.MapPost("", CreateAsync).WithName("CreateCannedReply")
            .WithSummary("Adds a canned reply (supervisors and provider admins); 409 when another has the shortcut.");
        editors.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateCannedReply")
            .WithSummary("Replaces a canned reply's title, body and shortcut (supervisors and provider admins); 409 when another has the shortcut.");
        editors.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteCannedReply").WithSummary("Deletes a canned reply (supervisors and provider admins).");

        tenant.MapGet("/work-items/{id:guid}/canned-replies/{cannedId:guid}/rendered", RenderAsync).WithName("RenderCannedReply")
            .WithSummary("The canned reply with its placeholders filled for the item and the calling agent, as plain text for the reply box.");
        return canned;
    }

    private static async Task<Results<Ok<CannedReplyPage>, ValidationProblem>> ListAsync(
        string? q, string? cursor, int? limit, HttpRequest request, ProDeskDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var query = db.CannedReplies.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(q))
        {
            var text = q.Trim().ToLowerInvariant();
#pragma warning disable CA1862 // In SQL: the StringComparison overloads do not translate on both providers.
            query = query.Where(c => c.Title.ToLower().Contains(text) || (c.Shortcut != null && c.Shortcut.Contains(text)));
#pragma warning restore CA1862
        }

        if (KeysetCursor.AfterText(request, cursor, errors) is { } after)
        {
            query = query.Where(c => string.Compare(c.Title, after.Key) > 0 || (c.Title == after.Key && c.Id.CompareTo(after.Id) > 0));
        }

        var size = KeysetCursor.PageSize(limit, 100, errors);

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var page = await query.OrderBy(c => c.Title).ThenBy(c => c.Id).Take(size + 1).ToListAsync(cancellationToken);
        var next = page.Count > size ? KeysetCursor.Write(request, page[size - 1].Title, page[size - 1].Id) : null;
        return TypedResults.Ok(new CannedReplyPage([.. page.Take(size).Select(CannedReplyView.From)], Placeholders.Known, next));
    }

    private static async Task<Results<Ok<CannedReplyView>, NotFound>> GetAsync(Guid id, ProDeskDbContext db, CancellationToken cancellationToken) =>
        await db.CannedReplies.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, cancellationToken) is { } canned
            ? TypedResults.Ok(CannedReplyView.From(canned))
            : TypedResults.NotFound();

    private static async Task<Results<Created<CannedReplyView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        string tenant, Request request, ProDeskDbContext db, ClaimsPrincipal user, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (Validate(request) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var canned = new CannedReply { Id = Guid.CreateVersion7(), Title = "", Body = "", CreatedAt = now };
        Apply(canned, request, user, now);
        if (await ShortcutTakenAsync(db, canned, cancellationToken) is { } taken)
        {
            return taken;
        }

        db.CannedReplies.Add(canned);
        if (await SaveAsync(db, canned, cancellationToken) is { } conflict)
        {
            return conflict;
        }

        return TypedResults.Created($"/api/v1/tenants/{tenant.ToLowerInvariant()}/canned-replies/{canned.Id}", CannedReplyView.From(canned));
    }

    private static async Task<Results<Ok<CannedReplyView>, NotFound, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, Request request, ProDeskDbContext db, ClaimsPrincipal user, TimeProvider clock, CancellationToken cancellationToken)
    {
        var canned = await db.CannedReplies.FirstOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (canned is null)
        {
            return TypedResults.NotFound();
        }

        if (Validate(request) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        Apply(canned, request, user, clock.GetUtcNow().UtcDateTime);
        if (await ShortcutTakenAsync(db, canned, cancellationToken) is { } taken)
        {
            return taken;
        }

        if (await SaveAsync(db, canned, cancellationToken) is { } conflict)
        {
            return conflict;
        }

        return TypedResults.Ok(CannedReplyView.From(canned));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(Guid id, ProDeskDbContext db, CancellationToken cancellationToken) =>
        await db.CannedReplies.Where(c => c.Id == id).ExecuteDeleteAsync(cancellationToken) == 0 ? TypedResults.NotFound() : TypedResults.NoContent();

    private static async Task<Results<Ok<RenderedCannedReply>, NotFound>> RenderAsync(
        Guid id, Guid cannedId, ProDeskDbContext db, ITenantContext tenantContext, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var item = await db.WorkItems.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
        var canned = await db.CannedReplies.AsNoTracking().FirstOrDefaultAsync(c => c.Id == cannedId, cancellationToken);
        if (item is null || canned is null || tenantContext.Current is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        var contact = item.ContactId is { } contactId ? await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == contactId, cancellationToken) : null;
        var values = new Dictionary<string, string?>
        {
            [Placeholders.ContactName] = contact?.Name,
            [Placeholders.ContactEmail] = contact?.Email,
            [Placeholders.ItemSubject] = item.Subject,
            // The reference customers see in acknowledgments (IngestEmail) and surveys.
            [Placeholders.ItemReference] = item.Id.ToString(),
            [Placeholders.AgentName] = user.FindFirstValue(ProDeskClaims.Name),
            [Placeholders.TenantName] = tenant.Name,
        };
        var rendered = Placeholders.Render(canned.Body, values);
        return TypedResults.Ok(new RenderedCannedReply(canned.Id, canned.Title, rendered.Text, rendered.Missing, rendered.Unknown));
    }

    private static Dictionary<string, string[]>? Validate(Request request)
    {
        var errors = new Dictionary<string, string[]>();
        if (PlainText.Line(request.Title) is not { Length: > 0 and <= 200 })
        {
            errors["title"] = ["is required and at most 200 characters"];
        }

        if (string.IsNullOrWhiteSpace(request.Body) || request.Body.Length > MaxBodyLength)
        {
            errors["body"] = [$"is required and at most {MaxBodyLength} characters"];
        }
        else if (Placeholders.Render(request.Body, new Dictionary<string, string?>()).Unknown is { Count: > 0 } unknown)
        {
            // Saved, "{{contact.pasword}}" would reach a customer as typed the first time an agent used the reply in a hurry.
            errors["body"] = [$"unknown placeholder{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Take(10).Select(u => $"{{{{{u}}}}}"))}: use {string.Join(", ", Placeholders.Known.Select(k => $"{{{{{k}}}}}"))}"];
        }

        if (!string.IsNullOrWhiteSpace(request.Shortcut) && !ShortcutPattern().IsMatch(request.Shortcut.Trim().ToLowerInvariant()))
        {
            errors["shortcut"] = ["1 to 32 lowercase letters, digits, '-' or '_', starting with a letter or digit"];
        }

        return errors.Count > 0 ? errors : null;
    }

    private static void Apply(CannedReply canned, Request request, ClaimsPrincipal user, DateTime now)
    {
        // One line without control or bidi characters, as a subject is: it is listed beside the others.
        canned.Title = PlainText.Line(request.Title);
        canned.Body = request.Body!;
        canned.Shortcut = string.IsNullOrWhiteSpace(request.Shortcut) ? null : request.Shortcut.Trim().ToLowerInvariant();
        canned.UpdatedBy = user.FindFirstValue(ProDeskClaims.Email) ?? user.FindFirstValue(ProDeskClaims.Subject);
        canned.UpdatedAt = now;
    }

    private static async Task<ProblemHttpResult?> ShortcutTakenAsync(ProDeskDbContext db, CannedReply canned, CancellationToken cancellationToken) =>
        canned.Shortcut is { } shortcut && await db.CannedReplies.AnyAsync(c => c.Shortcut == shortcut && c.Id != canned.Id, cancellationToken)
            ? ShortcutProblem()
            : null;

    /// <summary>Saves; a shortcut taken since the check (the unique index) is the same 409.</summary>
    private static async Task<ProblemHttpResult?> SaveAsync(ProDeskDbContext db, CannedReply canned, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateException) when (canned.Shortcut is not null)
        {
            return ShortcutProblem();
        }
    }

    private static ProblemHttpResult ShortcutProblem() =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Shortcut in use",
            detail: "shortcut: another canned reply of this tenant has it", extensions: new Dictionary<string, object?> { ["field"] = "shortcut" });

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9_-]{0,31}\z")]
    private static partial Regex ShortcutPattern();
}
