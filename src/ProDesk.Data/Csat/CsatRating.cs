using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Csat;

/// <summary>
/// A customer's satisfaction rating of one solve of an item (the link in the mail sent when it was
/// solved): one row per item and solve, changed by a later click or a comment.
/// </summary>
public sealed class CsatRating : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid WorkItemId { get; set; }

    /// <summary>Which time the item was solved (1 for the first): an item reopened and solved again is rated again.</summary>
    public int Solve { get; set; }

    /// <summary>1 (very unhappy) to 5 (very happy).</summary>
    public int Score { get; set; }

    public string? Comment { get; set; }

    public DateTime RatedAt { get; set; }
}
