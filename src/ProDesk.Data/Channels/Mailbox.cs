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

    /// <summary>The folder's UIDVALIDITY when <see cref="LastUid"/> was taken; another value means the folder was recreated.</summary>
    public long? UidValidity { get; set; }

    /// <summary>
    /// Every mail up to this UID was taken in or was there (already read) before the mailbox was set up; a mail above
    /// it is new even if someone read it in their own mail client first.
    /// </summary>
    public long? LastUid { get; set; }
}
