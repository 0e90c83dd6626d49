using System.Security.Claims;
using ProDesk.Data;
using ProDesk.Data.Audit;
using ProDesk.Web.Identity;

namespace ProDesk.Web.Audit;

/// <summary>Appends to the audit log: who did what, to what, when and from where. Never updates or deletes.</summary>
public sealed class AuditLog(ProDeskDbContext db, IHttpContextAccessor http, TimeProvider clock)
{
    public const string SignIn = "sign-in";
    public const string SignInFailed = "sign-in-failed";
    public const string LockedOut = "locked-out";
    public const string SignOut = "sign-out";
    public const string PasswordChanged = "password-changed";
    public const string TwoFactorEnabled = "two-factor-enabled";
    public const string TwoFactorDisabled = "two-factor-disabled";
    public const string TokenCreated = "token-created";
    public const string TokenRevoked = "token-revoked";
    public const string RoleChanged = "role-changed";
    public const string TenantsAssigned = "tenants-assigned";
    public const string SlaPolicyChanged = "sla-policy-changed";
    public const string HolidaysImported = "holidays-imported";
    public const string HolidayRemoved = "holiday-removed";
    public const string ClientSecretRotated = "client-secret-rotated";
    public const string ChannelKeyRotated = "channel-key-rotated";
    public const string AcknowledgmentChanged = "acknowledgment-changed";

    public async Task RecordAsync(string action, Guid? actorId, string? actorName, string? target = null, Guid? tenantId = null, string? details = null, CancellationToken cancellationToken = default)
    {
        db.AuditEvents.Add(new AuditEvent
        {
            At = clock.GetUtcNow().UtcDateTime,
            Action = action,
            ActorId = actorId,
            ActorName = actorName,
            Target = target,
            TenantId = tenantId,
            Ip = http.HttpContext?.Connection.RemoteIpAddress?.ToString(),
            Details = details,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    public Task RecordAsync(string action, ClaimsPrincipal actor, string? target = null, Guid? tenantId = null, string? details = null, CancellationToken cancellationToken = default) =>
        RecordAsync(action, Guid.TryParse(actor.FindFirstValue(ProDeskClaims.Subject), out var id) ? id : null, actor.FindFirstValue(ProDeskClaims.Email) ?? actor.Identity?.Name, target, tenantId, details, cancellationToken);
}
