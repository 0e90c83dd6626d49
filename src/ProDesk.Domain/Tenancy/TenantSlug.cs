using System.Text.RegularExpressions;

namespace ProDesk.Domain.Tenancy;

/// <summary>
/// The tenant's short name in URLs (<c>/api/v1/tenants/{tenant}</c>), client ids (<c>SLUG-integration</c>)
/// and emails (<c>admin@SLUG.test</c>), so it is held to what is safe in all three.
/// </summary>
public static partial class TenantSlug
{
    public const int MaxLength = 40;

    /// <summary>Names that would collide with routes or look like ours.</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "api", "admin", "hubs", "health", "metrics", "hangfire", "login", "logout", "connect", "channels", "webhooks", "prodesk", "www",
    };

    public static bool IsValid(string? slug) => Explain(slug) is null;

    /// <summary>Why <paramref name="slug"/> is not a valid slug, or null when it is.</summary>
    public static string? Explain(string? slug)
    {
        if (string.IsNullOrEmpty(slug))
        {
            return "is empty";
        }

        if (slug.Length > MaxLength)
        {
            return $"is longer than {MaxLength} characters";
        }

        if (!Pattern().IsMatch(slug))
        {
            return "must be lowercase letters, digits and single hyphens, starting with a letter";
        }

        return Reserved.Contains(slug) ? "is reserved" : null;
    }

    [GeneratedRegex(@"\A[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
