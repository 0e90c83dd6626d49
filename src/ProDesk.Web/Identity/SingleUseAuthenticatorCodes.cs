using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Identity;

/// <summary>
/// Authenticator (TOTP, RFC 6238) codes that work once. Identity accepts a code for two time steps
/// either side of now, any number of times, so a code seen over a shoulder or phished could sign in
/// again. As RFC 6238 section 5.2 advises, the time step of the last accepted code is kept with the user
/// (AspNetUserTokens) and a code of that step or an earlier one is refused, however it is typed
/// ("012345", "12345"). Saving the step goes through the user's concurrency stamp, so two sign-ins racing
/// with one code cannot both win.
/// </summary>
public sealed class SingleUseAuthenticatorCodes(TimeProvider clock) : AuthenticatorTokenProvider<AppUser>
{
    private const string Store = "[ProDesk]";
    private const string LastStep = "LastAuthenticatorStep";
    private const int StepsEitherSide = 2;

    public override async Task<bool> ValidateAsync(string purpose, string token, UserManager<AppUser> manager, AppUser user)
    {
        if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code > 999_999
            || await manager.GetAuthenticatorKeyAsync(user) is not { Length: > 0 } base32Key || Base32(base32Key) is not { } key)
        {
            return false;
        }

        var now = clock.GetUtcNow().ToUnixTimeSeconds() / 30;
        var last = long.TryParse(await manager.GetAuthenticationTokenAsync(user, Store, LastStep), CultureInfo.InvariantCulture, out var step) ? step : long.MinValue;
        for (var candidate = now - StepsEitherSide; candidate <= now + StepsEitherSide; candidate++)
        {
            if (candidate > last && Code(key, candidate) == code)
            {
                return (await manager.SetAuthenticationTokenAsync(user, Store, LastStep, candidate.ToString(CultureInfo.InvariantCulture))).Succeeded;
            }
        }

        return false;
    }

    private static int Code(byte[] key, long step)
    {
        Span<byte> counter = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(counter, step);
#pragma warning disable CA5350 // RFC 6238 authenticator apps use HMAC-SHA1; this computes what they compute.
        var hash = HMACSHA1.HashData(key, counter);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0f;
        var value = ((hash[offset] & 0x7f) << 24) | (hash[offset + 1] << 16) | (hash[offset + 2] << 8) | hash[offset + 3];
        return value % 1_000_000;
    }

    /// <summary>RFC 4648 base32, as Identity stores authenticator keys (upper case, no padding); null when it is not.</summary>
    private static byte[]? Base32(string text)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new List<byte>(text.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('='))
        {
            var value = Alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (value < 0)
            {
                return null;
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                output.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }

        return [.. output];
    }
}
