using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.Identity;
using ProDesk.Web.Audit;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Email;

/// <summary>Provider admins set up a tenant's IMAP mailboxes. Passwords are stored protected and never shown again.</summary>
public static class MailboxApi
{
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record MailboxRequest(string? Host, int? Port, bool? UseTls, string? UserName, string? Password, string? Folder, bool? Enabled);

    public sealed record MailboxView(string Key, string Host, int Port, bool UseTls, string UserName, string Folder, bool Enabled, DateTime? LastPolledAt, string? LastError);

    public static RouteGroupBuilder MapMailboxApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/tenants/{tenant}/channels/email/mailboxes")
            .RequireAuthorization(CurrentSession.ProviderAdminPolicy).WithTags("Channels");
        group.MapGet("", ListAsync).WithName("ListMailboxes").WithSummary("The tenant's IMAP mailboxes, with when each was last polled and its last error.");
        group.MapPut("/{key}", PutAsync).WithName("PutMailbox")
            .WithSummary("Creates or changes a mailbox (host, port, useTls, userName, password, folder, enabled); a change without a password keeps the stored one.");
        group.MapDelete("/{key}", DeleteAsync).WithName("DeleteMailbox").WithSummary("Stops polling a mailbox; mail already taken in stays.");
        return group;
    }

    private static MailboxView View(Mailbox m) => new(m.Key, m.Host, m.Port, m.UseTls, m.UserName, m.Folder, m.Enabled, m.LastPolledAt, m.LastError);

    private static async Task<Ok<List<MailboxView>>> ListAsync(ProDeskDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok((await db.Mailboxes.AsNoTracking().OrderBy(m => m.Key).ToListAsync(cancellationToken)).Select(View).ToList());

    /// <summary>Mailbox set-ups run one at a time on every node: two at once each passed the check that no other mailbox polls the account.</summary>
    private const string WriteLock = "mailbox-setup";

    private static async Task<Results<Ok<MailboxView>, Created<MailboxView>, ValidationProblem, ProblemHttpResult, NotFound>> PutAsync(
        string key, MailboxRequest request, ITenantContext tenants, ProDeskDbContext db, MailboxPoller poller, AuditLog audit, TenantScopes scopes,
        ClaimsPrincipal user, TimeProvider clock, CancellationToken cancellationToken)
    {
        using var inProcess = await KeyedLock.WaitAsync(WriteLock, cancellationToken);
        return await db.Database.OnOneConnectionAsync(async () =>
        {
            await using var acrossNodes = await KeyedLock.HoldAcrossNodesAsync(db, WriteLock, cancellationToken);
            return await PutOneAtATimeAsync(key, request, tenants, db, poller, audit, scopes, user, clock, cancellationToken);
        }, cancellationToken);
    }

    private static async Task<Results<Ok<MailboxView>, Created<MailboxView>, ValidationProblem, ProblemHttpResult, NotFound>> PutOneAtATimeAsync(
        string key, MailboxRequest request, ITenantContext tenants, ProDeskDbContext db, MailboxPoller poller, AuditLog audit, TenantScopes scopes,
        ClaimsPrincipal user, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (tenants.Current is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        var existing = await db.Mailboxes.FirstOrDefaultAsync(m => m.Key == key, cancellationToken);
        var errors = new Dictionary<string, string[]>();
        if (key.Length is 0 or > 64 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            errors["key"] = ["letters, digits, '-', '_' or '.', at most 64"];
        }

        if (string.IsNullOrWhiteSpace(request.Host) || request.Host.Length > 255 || Uri.CheckHostName(request.Host) == UriHostNameType.Unknown)
        {
            errors["host"] = ["must be a host name or address"];
        }

        if (request.Port is { } given && given is < 1 or > 65535)
        {
            errors["port"] = ["must be between 1 and 65535"];
        }

        if (string.IsNullOrWhiteSpace(request.UserName) || request.UserName.Length > 320)
        {
            errors["userName"] = ["is required, at most 320 characters"];
        }

        if (existing is null && string.IsNullOrEmpty(request.Password))
        {
            errors["password"] = ["is required for a new mailbox"];
        }

        // Control characters have no place in an IMAP folder or login name (CR/LF would end the command).
        // Nor the LIST wildcards, which name no one folder, nor a name of spaces only.
        if (request.Folder is { Length: 0 or > 255 } || (request.Folder?.Any(c => char.IsControl(c) || c is '*' or '%') ?? false)
            || (request.Folder is not null && string.IsNullOrWhiteSpace(request.Folder)))
        {
            errors["folder"] = ["must be 1 to 255 characters naming one folder: no control characters, no '*' or '%', not only spaces"];
        }

        if (request.UserName?.Any(char.IsControl) ?? false)
        {
            errors["userName"] = ["must not contain control characters"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var useTls = request.UseTls ?? true;
        var (host, port, userName, folder) = (MailboxAccount.Host(request.Host!), request.Port ?? (useTls ? 993 : 143), request.UserName!.Trim(), request.Folder ?? "INBOX");
        if (await PolledElsewhereAsync(host, userName, folder, existing?.Id, db, scopes, cancellationToken) is { } other)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Mailbox already polled",
                detail: $"userName: this account's folder is already polled as mailbox '{other.Key}' of tenant '{other.Tenant}'; each mail would be taken in twice");
        }

        var mailbox = existing ?? new Mailbox
        {
            Id = Guid.CreateVersion7(), TenantId = tenant.Id, Key = key, Host = "", UserName = "", ProtectedPassword = "", CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        if (existing is not null && (MailboxAccount.Host(existing.Host) != host || existing.UserName != userName || existing.Folder != folder))
        {
            // Another account or folder: its UIDs mean nothing here, and its history is not ours to take in.
            (mailbox.UidValidity, mailbox.LastUid) = (null, null);
        }

        (mailbox.Host, mailbox.Port, mailbox.UseTls, mailbox.UserName, mailbox.Folder) = (host, port, useTls, userName, folder);
        // Left out, it stays as it was: a new password saved for a mailbox switched off must not switch it back on (probe round 20).
        mailbox.Enabled = request.Enabled ?? existing?.Enabled ?? true;
        // Saved again (a corrected password, most often): the next poll tries at once, whatever failed before.
        mailbox.LastError = null;
        if (!string.IsNullOrEmpty(request.Password))
        {
            mailbox.ProtectedPassword = poller.Protector.Protect(request.Password!);
        }

        if (existing is null)
        {
            db.Mailboxes.Add(mailbox);
        }

        // The audit row and the mailbox are saved together.
        await audit.RecordAsync(existing is null ? "mailbox-created" : "mailbox-changed", user, key, tenant.Id, $"{mailbox.UserName}@{mailbox.Host}:{mailbox.Port}", cancellationToken);
        return existing is null ? TypedResults.Created($"/api/v1/tenants/{tenant.Slug}/channels/email/mailboxes/{key}", View(mailbox)) : TypedResults.Ok(View(mailbox));
    }

    /// <summary>
    /// Another mailbox, of any tenant, on the same account and folder (<see cref="MailboxAccount"/>: whatever the port, the
    /// host's spelling or alias, the login with or without its domain): both would take in every mail (another tenant's
    /// customers' mail among them) and answer it twice. Provider admins, who alone set mailboxes up, see every tenant.
    /// Names are resolved now, at each set-up, so a name that has since moved to another server is compared as it stands.
    /// </summary>
    private static async Task<(string Tenant, string Key)?> PolledElsewhereAsync(
        string host, string userName, string folder, Guid? self, ProDeskDbContext db, TenantScopes scopes, CancellationToken cancellationToken)
    {
        var system = await scopes.ForSystemAsync("mailbox-uniqueness", cancellationToken);
        using var everyTenant = TenantScopes.Enter(system);
        var lowerFolder = folder.ToLowerInvariant();
#pragma warning disable CA1862 // translated to SQL lower() on both providers; string.Equals with a comparison is not
        var others = await db.Mailboxes.AsNoTracking()
            .Where(m => m.Id != self && m.Folder.ToLower() == lowerFolder)
#pragma warning restore CA1862
            .Select(m => new { m.TenantId, m.Key, m.Host, m.UserName })
            .ToListAsync(cancellationToken);
        var sameLogin = others.Where(m => MailboxAccount.SameLogin(m.UserName, userName)).ToList();
        if (sameLogin.Count == 0)
        {
            return null;
        }

        var addresses = new Dictionary<string, IReadOnlySet<System.Net.IPAddress>>(StringComparer.Ordinal);
        foreach (var name in sameLogin.Select(m => MailboxAccount.Host(m.Host)).Append(host).Distinct(StringComparer.Ordinal))
        {
            addresses[name] = await MailboxAccount.AddressesAsync(name, cancellationToken);
        }

        var other = sameLogin.FirstOrDefault(m => MailboxAccount.SameServer(MailboxAccount.Host(m.Host), addresses[MailboxAccount.Host(m.Host)], host, addresses[host]));
        return other is null ? null : (system.Tenants.FirstOrDefault(t => t.Id == other.TenantId)?.Slug ?? "?", other.Key);
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(string key, ITenantContext tenants, ProDeskDbContext db, AuditLog audit, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var mailbox = await db.Mailboxes.FirstOrDefaultAsync(m => m.Key == key, cancellationToken);
        if (mailbox is null || tenants.Current is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        db.Mailboxes.Remove(mailbox);
        await audit.RecordAsync("mailbox-deleted", user, key, tenant.Id, null, cancellationToken);
        return TypedResults.NoContent();
    }
}
