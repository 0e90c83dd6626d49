using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Audit;
using ProDesk.Web.Csat;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Identity.Accounts;

/// <summary>
/// A user's life from invitation to leaving: a provider admin invites staff and a client admin its own company's users
/// (by email, with a single-use link to set a password), anyone enabled may have a link mailed to set a new one, and
/// an admin disables and enables accounts. The link is Identity's password-reset token (data protection, bound to the
/// user's security stamp): setting a password renews the stamp, so the link works once, and it expires after
/// <see cref="LinkLifetime"/>. Neither the link nor the token is stored or logged; the audit log says what happened.
/// </summary>
public sealed class UserAccounts(
    UserManager<AppUser> users,
    ProDeskDbContext db,
    AuditLog audit,
    AccountMail mail,
    Credentials credentials,
    IConfiguration configuration,
    IMemoryCache cache,
    ITenantStore tenantStore,
    IServiceScopeFactory scopes,
    TimeProvider clock)
{
    public const string Invited = "user-invited";
    public const string InvitationSent = "invitation-sent";
    public const string PasswordLinkRequested = "password-link-requested";
    public const string PasswordSet = "password-set";
    public const string Disabled = "user-disabled";
    public const string Enabled = "user-enabled";

    /// <summary>How long a mailed link sets a password (Identity's token lifespan; Identity:PasswordLinkHours).</summary>
    public static TimeSpan LinkLifetime(IConfiguration configuration) => TimeSpan.FromHours(configuration.GetValue("Identity:PasswordLinkHours", 48));

    /// <summary>Mails to one address asking for a new password, per node and hour: the form must not make the desk a mail cannon.</summary>
    public const int LinksPerAddressPerHour = 3;

    /// <summary>
    /// A disabled account's lockout end: Identity then refuses its sign-in for good; a date, not DateTimeOffset.MaxValue,
    /// which PostgreSQL (microseconds) does not give back as it was written.
    /// </summary>
    private static readonly DateTimeOffset DisabledUntil = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);

    public static bool IsDisabled(AppUser user) => user.LockoutEnd >= DisabledUntil;

    /// <summary>A user as the admin pages and the users API show them: <c>invited</c> until they set a password.</summary>
    public sealed record UserView(Guid Id, string Email, string Name, IReadOnlyList<string> Roles, string? Tenant, bool Disabled, bool Invited);

    public sealed record InviteRequest(string? Email, string? Name, string? Role);

    public sealed record Outcome(AppUser? User, Dictionary<string, string[]>? Errors);

    /// <summary>Creates a user without a password, in <paramref name="tenant"/> (null: provider staff), and mails the invitation.</summary>
    public async Task<Outcome> InviteAsync(InviteRequest request, TenantInfo? tenant, IReadOnlyList<string> roles, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var email = ProDesk.Domain.Channels.Email.ReplyAddress.Normalize(request.Email?.Trim());
        if (email is null || email.Length > 256)
        {
            errors["email"] = ["must be one email address, without a display name (that goes in name)"];
        }
        else if (await users.FindByEmailAsync(email) is not null)
        {
            errors["email"] = ["is already a user's address"];
        }

        var name = new string((request.Name ?? "").Where(c => !char.IsControl(c)).ToArray()).Trim();
        if (name.Length is 0 or > 200)
        {
            errors["name"] = ["is required: the person's name, at most 200 characters"];
        }

        var role = roles.FirstOrDefault(r => string.Equals(r, request.Role, StringComparison.OrdinalIgnoreCase));
        if (role is null)
        {
            errors["role"] = [$"must be one of {string.Join(", ", roles)}"];
        }

        if (errors.Count > 0)
        {
            return new Outcome(null, errors);
        }

        var user = new AppUser
        {
            Id = Guid.CreateVersion7(),
            UserName = email,
            Email = email,
            DisplayName = name,
            TenantId = tenant?.Id,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            LockoutEnabled = true,
        };
        var created = await users.CreateAsync(user);
        if (!created.Succeeded)
        {
            // Two invitations of one address at once: the second meets the first's row.
            return new Outcome(null, new() { ["email"] = [string.Join(" ", created.Errors.Select(e => e.Description))] });
        }

        await users.AddToRoleAsync(user, role!);
        await audit.RecordAsync(Invited, actor, user.Email, tenant?.Id, role, cancellationToken);
        await MailLinkAsync(user, invitation: true, cancellationToken);
        return new Outcome(user, null);
    }

    /// <summary>Mails the invitation again (a lost mail, an expired link); an earlier link stays valid until it expires or one is used.</summary>
    public async Task<bool> ResendInvitationAsync(AppUser user, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        if (IsDisabled(user))
        {
            return false;
        }

        await MailLinkAsync(user, invitation: !await users.HasPasswordAsync(user), cancellationToken);
        await audit.RecordAsync(InvitationSent, actor, user.Email, user.TenantId, cancellationToken: cancellationToken);
        return true;
    }

    /// <summary>
    /// "Forgot your password?": mails a link when <paramref name="email"/> is an enabled user's, and does nothing
    /// otherwise; the caller answers the same either way, and the mail leaves from the background queue.
    /// </summary>
    public async Task RequestPasswordLinkAsync(string email, CancellationToken cancellationToken)
    {
        var user = email.Length is > 0 and <= 320 ? await users.FindByEmailAsync(email) : null;
        if (user is null || IsDisabled(user))
        {
            return;
        }

        var key = $"password-links:{user.Id}";
        var sent = cache.GetOrCreate(key, entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1);
            return new int[1];
        })!;
        if (Interlocked.Increment(ref sent[0]) > LinksPerAddressPerHour)
        {
            return;
        }

        await MailLinkAsync(user, invitation: false, cancellationToken);
        await audit.RecordAsync(PasswordLinkRequested, user.Id, user.Email, user.Email, user.TenantId, cancellationToken: cancellationToken);
    }

    /// <summary>Sets the password a mailed link allows; the errors are for the person, the link's own failure under "token".</summary>
    public async Task<Dictionary<string, string[]>?> SetPasswordAsync(Guid userId, string token, string password, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(userId.ToString());
        if (user is null || IsDisabled(user))
        {
            return new() { ["token"] = [InvalidLink] };
        }

        var result = await users.ResetPasswordAsync(user, token, password);
        if (!result.Succeeded)
        {
            return result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.InvalidToken))
                ? new() { ["token"] = [InvalidLink] }
                : new() { ["password"] = result.Errors.Select(e => e.Description).ToArray() };
        }

        // The mail reached them: the address is theirs. Whoever knew the old password has no session or token left.
        user.EmailConfirmed = true;
        await users.UpdateAsync(user);
        await credentials.RevokeAllAsync(user, keepSession: null, cancellationToken);
        await audit.RecordAsync(PasswordSet, user.Id, user.Email, user.Email, user.TenantId, cancellationToken: cancellationToken);
        return null;
    }

    public const string InvalidLink = "This link is no longer valid: it was used already, has expired, or a newer one was sent. Ask for a new one on the sign-in page.";

    /// <summary>
    /// Disables or enables <paramref name="user"/>. Disabling ends at once what they are signed in with: browser
    /// sessions (deleted), personal access tokens and OAuth tokens (revoked), and open hub connections (re-checked now),
    /// as a password change does; the new security stamp refuses whatever a node still had in hand. Enabling gives
    /// back sign-in only: revoked tokens stay revoked. Setting the state it has changes nothing.
    /// </summary>
    public async Task SetDisabledAsync(AppUser user, bool disabled, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        if (IsDisabled(user) == disabled)
        {
            return;
        }

        if (disabled)
        {
            user.LockoutEnabled = true;
            user.LockoutEnd = DisabledUntil;
            await users.UpdateAsync(user);
            await users.UpdateSecurityStampAsync(user);
            await credentials.RevokeAllAsync(user, keepSession: null, cancellationToken);
            await ReleaseItemsAsync(user, actor, cancellationToken);
        }
        else
        {
            user.LockoutEnd = null;
            user.AccessFailedCount = 0;
            await users.UpdateAsync(user);
        }

        await audit.RecordAsync(disabled ? Disabled : Enabled, actor, user.Email, user.TenantId, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// A disabled member of staff's open items go back to their queues (unassigned, in the trail, announced): claim-next
    /// hands out only unassigned work, so nobody else would ever pick them up. As a tenant taken away does (StaffDirectory).
    /// </summary>
    private async Task ReleaseItemsAsync(AppUser user, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        if (user.TenantId is not null)
        {
            return;
        }

        var actorId = Guid.TryParse(actor.FindFirstValue(ProDeskClaims.Subject), out var id) ? id : (Guid?)null;
        var actorName = actor.FindFirstValue(ProDeskClaims.Email) ?? actor.FindFirstValue(ProDeskClaims.Subject);
        foreach (var tenant in await tenantStore.ListAsync(cancellationToken))
        {
            await using var scope = scopes.CreateAsyncScope();
            using var inTenant = TenantScopes.Enter(scope.ServiceProvider.GetRequiredService<TenantScopes>().ForTenant(tenant));
            var tenantDb = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
            var items = await tenantDb.WorkItems.Where(w => w.AssigneeId == user.Id && w.Status != Domain.WorkItems.WorkItemStatus.Closed).ToListAsync(cancellationToken);
            if (items.Count == 0)
            {
                continue;
            }

            var now = clock.GetUtcNow().UtcDateTime;
            foreach (var item in items)
            {
                WorkItems.WorkItemTrail.Assigned(tenantDb, item.Id, item.TenantId, null, actorId, actorName, now, previous: user.Id);
                item.AssigneeId = null;
                WorkItems.WorkItemTrail.Updated(tenantDb, item, now);
            }

            await tenantDb.SaveChangesAsync(cancellationToken);
            scope.ServiceProvider.GetRequiredService<Realtime.OutboxRelay>().Wake();
        }
    }

    /// <summary>The users of <paramref name="tenantId"/> (null: provider staff), by email.</summary>
    public async Task<List<UserView>> ListAsync(Guid? tenantId, ITenantStore tenants, CancellationToken cancellationToken)
    {
        var list = await db.Users.AsNoTracking().Where(u => u.TenantId == tenantId).OrderBy(u => u.Email).ToListAsync(cancellationToken);
        var ids = list.Select(u => u.Id).ToList();
        var roles = await db.UserRoles.Where(ur => ids.Contains(ur.UserId)).Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => new { ur.UserId, r.Name }).ToListAsync(cancellationToken);
        var slug = tenantId is { } id ? (await tenants.FindByIdAsync(id, cancellationToken))?.Slug : null;
        return list.Select(u => new UserView(u.Id, u.Email!, u.DisplayName,
            roles.Where(r => r.UserId == u.Id).Select(r => r.Name!).Order(StringComparer.Ordinal).ToList(), slug, IsDisabled(u), u.PasswordHash is null)).ToList();
    }

    public async Task<UserView> ViewAsync(AppUser user, ITenantStore tenants, CancellationToken cancellationToken)
    {
        var slug = user.TenantId is { } id ? (await tenants.FindByIdAsync(id, cancellationToken))?.Slug : null;
        return new UserView(user.Id, user.Email!, user.DisplayName, (await users.GetRolesAsync(user)).Order(StringComparer.Ordinal).ToList(), slug, IsDisabled(user), user.PasswordHash is null);
    }

    /// <summary>The link that sets <paramref name="user"/>'s password, for the mail only.</summary>
    private async Task MailLinkAsync(AppUser user, bool invitation, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var token = await users.GeneratePasswordResetTokenAsync(user);
        // The configured public address, never the request's Host: a forged Host would mail a link to the forger's site.
        var link = $"{CsatRequests.PublicBaseUrl(configuration)}/account/set-password?user={user.Id}&token={Uri.EscapeDataString(token)}";
        var hours = (int)LinkLifetime(configuration).TotalHours;
        var body = new StringBuilder().Append("Hello ").Append(user.DisplayName).Append(",\n\n");
        if (invitation)
        {
            body.Append("You have been given an account on the ProDesk service desk (").Append(user.Email).Append("). ")
                .Append("Choose your password here to sign in:\n\n");
        }
        else
        {
            body.Append("Someone (we hope you) asked to set a new password for ").Append(user.Email).Append(". ")
                .Append("Choose it here:\n\n");
        }

        body.Append(link).Append("\n\nThe link works once, for ").Append(hours).Append(" hours.");
        if (!invitation)
        {
            body.Append(" If you did not ask for it, ignore this mail: your password stays as it is.");
        }

        body.Append('\n');
        mail.Enqueue(user.Email!, user.DisplayName, invitation ? "Your ProDesk account" : "Set a new ProDesk password", body.ToString());
    }
}
