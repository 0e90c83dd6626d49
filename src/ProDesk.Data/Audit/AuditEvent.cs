namespace ProDesk.Data.Audit;

/// <summary>
/// One line of the append-only audit log: sign-ins, failures, lockouts, token creation and
/// revocation, role and tenant-assignment changes. <see cref="TenantId"/> is set for events about
/// one tenant (its client admins read them) and null for provider-wide ones. Rows are never
/// updated or deleted (on PostgreSQL a trigger refuses it).
/// </summary>
public sealed class AuditEvent
{
    public long Id { get; set; }

    public DateTime At { get; set; }

    public Guid? TenantId { get; set; }

    public Guid? ActorId { get; set; }

    public string? ActorName { get; set; }

    public required string Action { get; set; }

    public string? Target { get; set; }

    public string? Ip { get; set; }

    public string? Details { get; set; }
}
