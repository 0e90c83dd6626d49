using System.Globalization;
using Microsoft.AspNetCore.Identity;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Identity;

/// <summary>
/// Authenticator (TOTP) codes that work once. Identity accepts a code for about two and a half minutes
/// (two time steps either side) and any number of times, so a code seen over a shoulder or phished could
/// sign in again. The last accepted code is kept with the user (AspNetUserTokens) and refused while it
/// could still be valid; saving it goes through the user's concurrency stamp, so two sign-ins racing
/// with one code cannot both win.
/// </summary>
public sealed class SingleUseAuthenticatorCodes(TimeProvider clock) : AuthenticatorTokenProvider<AppUser>
{
    private const string Store = "[ProDesk]";
    private const string LastCode = "LastAuthenticatorCode";
    private static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(3);

    public override async Task<bool> ValidateAsync(string purpose, string token, UserManager<AppUser> manager, AppUser user)
    {
        if (!await base.ValidateAsync(purpose, token, manager, user))
        {
            return false;
        }

        var code = token.Trim();
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        if (await manager.GetAuthenticationTokenAsync(user, Store, LastCode) is { } last && last.Split('|') is [var used, var at]
            && used == code && long.TryParse(at, CultureInfo.InvariantCulture, out var usedAt) && now - usedAt < CodeLifetime.TotalSeconds)
        {
            return false;
        }

        return (await manager.SetAuthenticationTokenAsync(user, Store, LastCode, $"{code}|{now.ToString(CultureInfo.InvariantCulture)}")).Succeeded;
    }
}
