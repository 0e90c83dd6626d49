using OpenIddict.Abstractions;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Identity;

/// <summary>
/// Ends every credential of a user but the session asking: personal access tokens, OAuth tokens and the user's other
/// browser sessions. Those would fail their next security-stamp check anyway, up to Identity:SessionRecheckSeconds
/// later; "every other session has ended" is true at once this way (probe round 17).
/// </summary>
public sealed class Credentials(PersonalAccessTokens tokens, IOpenIddictTokenManager oauthTokens, ServerSideSessions sessions)
{
    public async Task RevokeAllAsync(AppUser user, Guid? keepSession, CancellationToken cancellationToken = default)
    {
        await tokens.RevokeAllAsync(user.Id, cancellationToken);
        await oauthTokens.RevokeBySubjectAsync(user.Id.ToString(), cancellationToken);
        await sessions.EndOthersAsync(user.Id, keepSession, cancellationToken);
    }
}
