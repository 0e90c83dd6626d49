using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Channels;

/// <summary>One IMAP mailbox of a tenant, polled (and watched with IDLE where the server has it).</summary>
public sealed class Mailbox : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    /// <summary>Short name, unique in the tenant; part of the dedupe key of every mail fetched from it.</summary>
    public required string Key { get; set; }

    public required string Host { get; set; }

    public int Port { get; set; }

    /// <summary>Implicit TLS (993) or STARTTLS when offered; false only for loopback and tests.</summary>
    public bool UseTls { get; set; } = true;

    public required string UserName { get; set; }

    /// <summary>Protected with the data-protection key ring (purpose "mailbox-password").</summary>
    public required string ProtectedPassword { get; set; }

    public string Folder { get; set; } = "INBOX";

    public bool Enabled { get; set; } = true;

    public DateTime CreatedAt { get; set; }

    public DateTime? LastPolledAt { get; set; }

    public string? LastError { get; set; }
}
