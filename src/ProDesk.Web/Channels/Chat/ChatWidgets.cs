using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using ProDesk.Domain.Tenancy;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Chat;

/// <summary>A tenant's chat widget: the hash of its public key, and the key that signs its visitors' tokens.</summary>
public sealed record ChatWidget(TenantInfo Tenant, byte[] WidgetKeyHash, byte[] TokenKey);

/// <summary>
/// Finds a tenant's widget by slug and key, from the settings every node keeps (<see cref="ChannelSettingsCache"/>):
/// long polling authenticates every poll, and every hub call checks its visitor token with the tenant's key.
/// </summary>
public sealed class ChatWidgets(ITenantStore store, ChannelSettingsCache settings)
{
    /// <summary>The widget when the tenant is active and the key is its widget key; null for anything else, alike.</summary>
    public async Task<ChatWidget?> AuthenticateAsync(string? slug, string? key, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(slug) || slug.Length > 100 || string.IsNullOrEmpty(key))
        {
            return null;
        }

        // Lowercase, as every channel route takes a slug: a widget embedded as "ACME" works.
        var tenant = await store.FindBySlugAsync(slug.ToLowerInvariant(), cancellationToken);
        var widget = tenant is { Status: TenantStatus.Active } ? await OfAsync(tenant, cancellationToken) : null;
        return widget is not null && InboundKeys.Matches(key, widget.WidgetKeyHash) ? widget : null;
    }

    /// <summary>The widget of a tenant already known (from the connection's claim).</summary>
    public async Task<ChatWidget?> OfAsync(TenantInfo tenant, CancellationToken cancellationToken) =>
        await settings.GetAsync(tenant, cancellationToken) is { WidgetKey: { Length: > 0 } widgetKey } found
            ? new ChatWidget(tenant, InboundKeys.Hash(widgetKey), found.ReplyTokenKey)
            : null;
}

/// <summary>
/// The authentication of /hubs/chat: the query string's <c>tenant</c> (slug) and <c>key</c> (the widget
/// key). A match is a principal acting in that one tenant (its <c>tenant</c> claim), which the tenant hub
/// filter turns into the tenant scope of every call; anything else is 401 at negotiation.
/// </summary>
public sealed class ChatWidgetAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ChatWidgets widgets)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ChatWidget";

    /// <summary>Marks the principal as a widget visitor (never staff, never a client user).</summary>
    public const string VisitorClaim = "chat-widget";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var widget = await widgets.AuthenticateAsync(Request.Query["tenant"], Request.Query["key"], Context.RequestAborted);
        if (widget is null)
        {
            return AuthenticateResult.Fail("Unknown tenant or wrong widget key.");
        }

        var identity = new ClaimsIdentity(
            [new Claim(TenantAccess.TenantClaim, widget.Tenant.Id.ToString()), new Claim(VisitorClaim, widget.Tenant.Slug)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
