using OpenIddict.Abstractions;

namespace ProDesk.Web.Identity;

/// <summary>
/// Deletes expired and revoked OAuth tokens and authorizations older than a day, and expired browser sessions
/// (reentrant; recurring job).
/// </summary>
public sealed class TokenPruning(IOpenIddictTokenManager tokens, IOpenIddictAuthorizationManager authorizations, ServerSideSessions sessions, TimeProvider clock)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var threshold = clock.GetUtcNow() - TimeSpan.FromDays(1);
        await tokens.PruneAsync(threshold, cancellationToken);
        await authorizations.PruneAsync(threshold, cancellationToken);
        await sessions.PruneAsync(cancellationToken);
    }
}
