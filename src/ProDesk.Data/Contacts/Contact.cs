using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Contacts;

/// <summary>A client's customer: one person across email, phone and chat identities.</summary>
public sealed class Contact : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public required string Name { get; set; }

    public string? Email { get; set; }

    public string? Phone { get; set; }

    public string? Company { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>Counts the edits of staff (updates, merges into it) and a name learnt from mail; an edit naming an older one is refused as stale.</summary>
    public int Version { get; set; } = 1;
}
