using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Data.Csat;
using ProDesk.Domain.Csat;
using ProDesk.Domain.Tenancy;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Csat;

/// <summary>
/// A customer's click on a rating link (or the comment sent from the page it opened): checks the
/// token against the tenant's key, then records the score for that item and solve, replacing an
/// earlier one. Anything that does not check out (a forged or edited token, a score outside 1..5,
/// an item that is gone) records nothing and tells nothing: the page answers 404. A genuine link
/// more than <see cref="CsatOptions.SurveyDays"/> after its solve records nothing either: the survey
/// has closed, so old solves' figures stay as they were.
/// </summary>
public sealed class RecordCsatRating(ProDeskDbContext db, ITenantStore tenants, TenantScopes scopes, TimeProvider clock, IOptions<CsatOptions> options)
{
    public const int MaxCommentLength = 2000;

    private static readonly string SolvedStatus = WorkItemStatus.Solved.ToString();

    /// <param name="Recorded">False when only checked (<c>save: false</c>): the score is the one the link offers, not yet stored.</param>
    /// <param name="StoredScore">The score stored for this solve before this call, if any.</param>
    /// <param name="Closed">The survey closed (<see cref="CsatOptions.SurveyDays"/> after the solve): nothing was or will be recorded.</param>
    public sealed record Rated(string TenantName, int Score, string? Comment, bool Recorded = true, int? StoredScore = null, bool Closed = false);

    /// <param name="comment">With <paramref name="setComment"/>, replaces the comment (empty clears it); otherwise the comment stays.</param>
    /// <param name="save">False to check the link only and read what is stored: opening a link must change nothing (mail scanners open them all).</param>
    public async Task<Rated?> HandleAsync(string token, int score, string? comment, bool setComment, CancellationToken cancellationToken, bool save = true)
    {
        // The token carries its tenant in the clear: it says whose key to check it with, nothing more.
        if (score is < 1 or > 5 || !CsatToken.TryPeekTenant(token, out var claimedTenant)
            || await tenants.FindByIdAsync(claimedTenant, cancellationToken) is not { Status: TenantStatus.Active } tenant)
        {
            return null;
        }

        // A public page outside any tenant (NoTenant): it enters the one tenant its token names, for this call only.
        using var scope = TenantScopes.Enter(scopes.ForTenant(tenant));
        var key = await db.ChannelSettings.AsNoTracking().Where(c => c.TenantId == tenant.Id).Select(c => c.ReplyTokenKey).FirstOrDefaultAsync(cancellationToken);
        if (key is null || !CsatToken.TryRead(token, key, out var tenantId, out var itemId, out var solve) || tenantId != tenant.Id
            || !await db.WorkItems.AnyAsync(w => w.Id == itemId, cancellationToken))
        {
            return null;
        }

        // The age comes from the solve the token names (its move to Solved in the trail), so the token needs no date.
        // A solve the trail does not show (not expected) cannot be dated and stays open.
        var solvedAt = await db.WorkItemChanges.AsNoTracking()
            .Where(c => c.WorkItemId == itemId && c.Field == "status" && c.To == SolvedStatus)
            .OrderBy(c => c.Id).Skip(solve - 1).Select(c => (DateTime?)c.At).FirstOrDefaultAsync(cancellationToken);
        if (solvedAt is { } at && clock.GetUtcNow().UtcDateTime - at > TimeSpan.FromDays(options.Value.SurveyDays))
        {
            return new Rated(tenant.Name, score, null, Recorded: false, Closed: true);
        }

        if (!save)
        {
            var stored = await db.CsatRatings.AsNoTracking().Where(r => r.WorkItemId == itemId && r.Solve == solve)
                .Select(r => new { r.Score, r.Comment }).FirstOrDefaultAsync(cancellationToken);
            return new Rated(tenant.Name, score, stored?.Comment, Recorded: stored?.Score == score, StoredScore: stored?.Score);
        }

        // As every channel stores what people type: no NUL or terminal controls (the page refuses a longer one before this).
        var text = Channels.PlainText.Body(comment) is { Length: > 0 } clean ? ColumnText.Fit(clean, MaxCommentLength) : null;

        for (var attempt = 1; ; attempt++)
        {
            var rating = await db.CsatRatings.FirstOrDefaultAsync(r => r.WorkItemId == itemId && r.Solve == solve, cancellationToken);
            if (rating is null)
            {
                rating = new CsatRating { Id = Guid.CreateVersion7(), TenantId = tenant.Id, WorkItemId = itemId, Solve = solve };
                db.CsatRatings.Add(rating);
            }

            rating.Score = score;
            rating.RatedAt = clock.GetUtcNow().UtcDateTime;
            if (setComment)
            {
                rating.Comment = text;
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return new Rated(tenant.Name, rating.Score, rating.Comment);
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // Two clicks at once (mail scanners open links too): the unique index keeps one row; this click updates it.
                db.ChangeTracker.Clear();
            }
        }
    }
}

/// <summary>Section <c>Csat</c>.</summary>
public sealed class CsatOptions
{
    /// <summary>How many days after a solve its survey takes ratings (default 28, as common help desks close theirs after about four weeks).</summary>
    public int SurveyDays { get; set; } = 28;
}
