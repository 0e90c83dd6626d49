using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Channels;

/// <summary>An address that bounced permanently (5.x.x): no more mail goes to it in this tenant.</summary>
public sealed class EmailSuppression : ITenantOwned
{
    public Guid TenantId { get; set; }

    public required string Address { get; set; }

    public required string Reason { get; set; }

    public DateTime CreatedAt { get; set; }
}
