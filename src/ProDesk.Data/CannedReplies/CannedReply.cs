using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.CannedReplies;

/// <summary>A tenant's ready-made answer: agents insert its body (placeholders filled for the item) into the reply box.</summary>
public sealed class CannedReply : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public required string Title { get; set; }

    /// <summary>Plain text with placeholders such as <c>{{contact.name}}</c> (ProDesk.Domain.CannedReplies.Placeholders).</summary>
    public required string Body { get; set; }

    /// <summary>A short word agents type to find it (e.g. "refund"): unique in the tenant, lowercase.</summary>
    public string? Shortcut { get; set; }

    public string? UpdatedBy { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}
