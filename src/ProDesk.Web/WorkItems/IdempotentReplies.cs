using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Identity;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// An API reply sent with an <c>Idempotency-Key</c> header goes out once, however often a client retries it after a
/// timeout: the key is kept on the reply's message row as its external id (<c>reply:{caller}:{key}</c>), under the unique
/// (tenant, external id) index ingestion already dedupes by, so it lasts as long as the message and two retries racing
/// cannot both store. The same key for the same item and body answers the item again (<c>Idempotent-Replayed: true</c>)
/// and sends nothing; for another item or body it is a mistake, 422 naming the header. Keys are the caller's own
/// (its <c>sub</c>: the user, or an integration's client id), as Stripe scopes them to the API key and the IETF draft
/// asks ("unique per client"): two agents whose tools both number their keys 1, 2, ... never meet, and one is never
/// told "sent" for a colleague's reply (probe round 20).
/// </summary>
internal static class IdempotentReplies
{
    public const string Header = "Idempotency-Key";

    private const int MaxLength = 200;

    /// <summary>The message's external id for <paramref name="caller"/>'s <paramref name="key"/>; null without a key.</summary>
    public static string? ExternalId(ClaimsPrincipal caller, string? key) => key is null ? null
        : $"reply:{caller.FindFirstValue(ProDeskClaims.Subject) ?? throw new InvalidOperationException("an authenticated caller has a subject")}:{key}";

    /// <summary>The request's key, or the problem with it (printable ASCII, 1 to 200 characters, one header).</summary>
    public static ValidationProblem? Read(HttpRequest request, out string? key)
    {
        key = null;
        var values = request.Headers[Header];
        if (values.Count == 0)
        {
            return null;
        }

        key = values.Count == 1 ? values[0] : null;
        if (key is null || key.Length is 0 or > MaxLength || key.Any(c => c is < '!' or > '~'))
        {
            key = null;
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [Header] = [$"must be one key of 1 to {MaxLength} printable ASCII characters without spaces, such as a UUID"],
            });
        }

        return null;
    }

    /// <summary>
    /// Null when <paramref name="caller"/> made no reply in this tenant with <paramref name="key"/>; else whether that
    /// reply was this one (same item, same body as stored), which a retry answers as done, or another, which is a 422.
    /// </summary>
    public static async Task<bool?> SameAsFirstAsync(ProDeskDbContext db, ClaimsPrincipal caller, string key, Guid itemId, string body, CancellationToken cancellationToken)
    {
        var externalId = ExternalId(caller, key);
        var first = await db.WorkItemMessages.AsNoTracking().Where(m => m.ExternalId == externalId)
            .Select(m => new { m.WorkItemId, m.Body }).FirstOrDefaultAsync(cancellationToken);
        // A merge moves the reply to the merged item: its retry names the item it was sent on, which then points there.
        return first is null ? null : first.WorkItemId == itemId && first.Body == body
            || (first.Body == body && await db.WorkItemChanges.AnyAsync(c => c.WorkItemId == itemId && c.Field == MergeConversations.MergedIntoField && c.To == first.WorkItemId.ToString(), cancellationToken));
    }

    public static ProblemHttpResult Reused() => TypedResults.Problem(
        statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "Idempotency-Key already used for another reply",
        detail: $"{Header}: this key was sent with another item or body; nothing was sent. Use a new key for a new reply.",
        extensions: new Dictionary<string, object?> { ["field"] = Header });
}
