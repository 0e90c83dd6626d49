using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using ProDesk.Data;
using ProDesk.Web.Audit;
using ProDesk.Web.Channels;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.TenantKeys;

/// <summary>
/// A tenant's secrets that machines present: its integration clients' secrets (client_credentials), its inbound mail key
/// (<c>X-ProDesk-Key</c>), its widget key (chat and web form) and the SMS gateway's signing token. Before this only the
/// seed wrote them, once, so a leaked one worked for ever (probe round 20). A rotation makes a new random value, shows it
/// once (only its hash is kept where the check allows: the client secret and the inbound key; the widget key is public,
/// it sits in the client's pages), refuses the old one at once on this node, and is audited without the value. The API
/// (<see cref="TenantKeysApi"/>) and the command line (<see cref="TenantKeysCommands"/>) share it. Runs in the tenant's scope.
/// </summary>
public sealed class RotateTenantKeys(
    IOpenIddictApplicationManager applications,
    IOpenIddictTokenManager tokens,
    ProDeskDbContext db,
    AuditLog audit,
    ChannelSettingsCache channelSettings,
    ClientAccessTokenHandler.CheckedTokens checkedTokens)
{
    public const string InboundKey = "inbound";
    public const string WidgetKey = "widget";
    public const string SmsAuthToken = "sms-auth-token";

    public sealed record Client(string ClientId, string? DisplayName);

    public sealed record RotatedSecret(string ClientId, string ClientSecret, long AccessTokensRevoked);

    /// <summary>The integration clients that act for <paramref name="tenant"/>.</summary>
    public async Task<List<Client>> ClientsAsync(TenantInfo tenant, CancellationToken cancellationToken)
    {
        var clients = new List<Client>();
        await foreach (var application in OfAsync(tenant, cancellationToken))
        {
            clients.Add(new Client((await applications.GetClientIdAsync(application, cancellationToken))!, await applications.GetDisplayNameAsync(application, cancellationToken)));
        }

        return [.. clients.OrderBy(c => c.ClientId, StringComparer.Ordinal)];
    }

    /// <summary>
    /// A new secret for the tenant's client <paramref name="clientId"/>, or null when the tenant has no such client. The old
    /// secret gets no new token from then on; the tokens it got are revoked, which ends each within the minute
    /// <see cref="ClientAccessTokenHandler"/> counts a token as checked (at once on this node).
    /// </summary>
    public async Task<RotatedSecret?> RotateClientSecretAsync(TenantInfo tenant, string clientId, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        if (await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application
            || !await ActsForAsync(application, tenant, cancellationToken))
        {
            return null;
        }

        var secret = NewSecret();
        // OpenIddict keeps a hash of it, as of every client secret.
        await applications.UpdateAsync(application, secret, cancellationToken);
        var revoked = await tokens.RevokeByApplicationIdAsync((await applications.GetIdAsync(application, cancellationToken))!, cancellationToken);
        checkedTokens.Forget(clientId);
        await audit.RecordAsync(AuditLog.ClientSecretRotated, actor, clientId, tenant.Id, details: $"{revoked} access token(s) revoked", cancellationToken: cancellationToken);
        return new RotatedSecret(clientId, secret, revoked);
    }

    /// <summary>A new inbound mail key, or null when the tenant has no channel settings.</summary>
    public async Task<string?> RotateInboundKeyAsync(TenantInfo tenant, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var key = NewSecret();
        return await ChangeAsync(tenant, InboundKey, s => s.InboundKeyHash = InboundKeys.Hash(key), actor, cancellationToken) ? key : null;
    }

    /// <summary>
    /// A new widget key, or null when the tenant has no channel settings. Every page embedding the widget or the web form
    /// needs the new one: the old one's chats cannot connect again and its forms are refused.
    /// </summary>
    public async Task<string?> RotateWidgetKeyAsync(TenantInfo tenant, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var key = NewSecret();
        return await ChangeAsync(tenant, WidgetKey, s => s.WidgetKey = key, actor, cancellationToken) ? key : null;
    }

    /// <summary>
    /// The SMS gateway's auth token, which signs its webhooks (X-Twilio-Signature): the gateway issues it, so it is set
    /// here once rotated there, not made here. False when the tenant has no channel settings.
    /// </summary>
    public Task<bool> SetSmsAuthTokenAsync(TenantInfo tenant, string authToken, ClaimsPrincipal actor, CancellationToken cancellationToken) =>
        ChangeAsync(tenant, SmsAuthToken, s => s.SmsAuthToken = authToken, actor, cancellationToken);

    private async Task<bool> ChangeAsync(TenantInfo tenant, string which, Action<ProDesk.Data.Channels.ChannelSettings> change, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        if (await db.ChannelSettings.FirstOrDefaultAsync(c => c.TenantId == tenant.Id, cancellationToken) is not { } settings)
        {
            return false;
        }

        change(settings);
        await db.SaveChangesAsync(cancellationToken);
        // This node at once; the others when their copy expires (ChannelSettingsCache.Lifetime, 30 s).
        channelSettings.Forget(tenant);
        await audit.RecordAsync(AuditLog.ChannelKeyRotated, actor, which, tenant.Id, cancellationToken: cancellationToken);
        return true;
    }

    private async IAsyncEnumerable<object> OfAsync(TenantInfo tenant, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var application in applications.ListAsync(count: null, offset: null, cancellationToken))
        {
            if (await ActsForAsync(application, tenant, cancellationToken))
            {
                yield return application;
            }
        }
    }

    // The property the token endpoint reads (ConnectEndpoints): a client of another tenant, or of none (the first-party CLI), is not this tenant's.
    private async Task<bool> ActsForAsync(object application, TenantInfo tenant, CancellationToken cancellationToken) =>
        (await applications.GetPropertiesAsync(application, cancellationToken)).TryGetValue(ConnectEndpoints.TenantProperty, out var value)
        && value.ValueKind == JsonValueKind.String && Guid.TryParse(value.GetString(), out var id) && id == tenant.Id;

    // 256 bits, URL-safe: fits a header, a form field and a shell variable unquoted.
    private static string NewSecret() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}
