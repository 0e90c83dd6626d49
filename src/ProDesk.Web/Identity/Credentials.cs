using OpenIddict.Abstractions;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Identity;

/// <summary>Ends every credential of a user other than a fresh sign-in: personal access tokens and OAuth tokens.</summary>
public sealed class Credentials(PersonalAccessTokens tokens, IOpenIddictTokenManager oauthTokens)
{
    public async Task RevokeAllAsync(AppUser user, CancellationToken cancellationToken = default)
    {
        await tokens.RevokeAllAsync(user.Id, cancellationToken);
        await oauthTokens.RevokeBySubjectAsync(user.Id.ToString(), cancellationToken);
    }
}
