using Microsoft.AspNetCore.Identity;

namespace ProDesk.Data.Identity;

/// <summary>
/// Everyone who signs in: provider staff (no home tenant; the tenants an agent serves are
/// <see cref="StaffTenant"/> rows) and client users (confined to <see cref="TenantId"/>).
/// Not tenant-owned: sign-in must find a user before any tenant is known.
/// </summary>
public sealed class AppUser : IdentityUser<Guid>
{
    public required string DisplayName { get; set; }

    /// <summary>The one tenant of a client admin or viewer; null for provider staff.</summary>
    public Guid? TenantId { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>
    /// A member of staff serving every client, present and future ("*" in staff.json, or in the staff API): a client onboarded
    /// later is added to their <see cref="StaffTenant"/> rows in the transaction that creates it. The rows stay the one
    /// access check; this only says who gets the next client. An explicit list of tenants clears it.
    /// </summary>
    public bool ServesAllTenants { get; set; }

    /// <summary>What an agent can do that not everyone can (languages such as "fr"); routing matches queues' required skills.</summary>
    public List<string> Skills { get; set; } = [];
}

public sealed class AppRole : IdentityRole<Guid>
{
    public AppRole()
    {
    }

    public AppRole(string name) : base(name)
    {
    }
}

/// <summary>The roles of CONTRACT.md.</summary>
public static class Roles
{
    public const string ProviderAdmin = nameof(ProviderAdmin);
    public const string Supervisor = nameof(Supervisor);
    public const string Agent = nameof(Agent);
    public const string ClientAdmin = nameof(ClientAdmin);
    public const string ClientViewer = nameof(ClientViewer);

    public static readonly IReadOnlyList<string> All = [ProviderAdmin, Supervisor, Agent, ClientAdmin, ClientViewer];

    public static readonly IReadOnlyList<string> Staff = [ProviderAdmin, Supervisor, Agent];

    public static readonly IReadOnlyList<string> Client = [ClientAdmin, ClientViewer];
}

/// <summary>A tenant that a member of provider staff serves.</summary>
public sealed class StaffTenant
{
    public Guid UserId { get; set; }

    public Guid TenantId { get; set; }
}
