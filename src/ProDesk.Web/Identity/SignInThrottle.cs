using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;

namespace ProDesk.Web.Identity;

/// <summary>
/// Counts failed sign-ins for emails that have no account, so that after the same five failures
/// an unknown email shows the same lockout as a known one: the sign-in page never tells whether an
/// account exists. Known accounts use Identity's own lockout. Per node, which is enough to keep
/// the answers alike; the rate limiter bounds guessing across emails.
/// </summary>
public sealed class SignInThrottle(IMemoryCache cache, TimeProvider clock)
{
    public const int MaxFailures = 5;
    public static readonly TimeSpan LockoutWindow = TimeSpan.FromMinutes(15);

    public bool IsLockedOut(string email) =>
        cache.TryGetValue(Key(email), out Entry? entry) && entry!.Failures >= MaxFailures && entry.Until > clock.GetUtcNow();

    /// <summary>Records a failure; true when this one locks the email out.</summary>
    public bool RecordFailure(string email)
    {
        var key = Key(email);
        var now = clock.GetUtcNow();
        var entry = cache.TryGetValue(key, out Entry? existing) && existing!.Until > now ? existing : new Entry();
        entry.Failures++;
        entry.Until = now + LockoutWindow;
        cache.Set(key, entry, LockoutWindow);
        return entry.Failures >= MaxFailures;
    }

    private static string Key(string email) =>
        "signin-failures:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToUpperInvariant())));

    private sealed class Entry
    {
        public int Failures { get; set; }

        public DateTimeOffset Until { get; set; }
    }
}
