using System.Collections.Frozen;

namespace ProDesk.Domain.Contacts;

/// <summary>
/// The country whose numbering plan a tenant's national phone numbers ("06 12 34 56 78") follow, taken from its time
/// zone: a tenant has no country setting, and its time zone is where its customers call from. tzdb's zone.tab names one
/// country per zone (Europe/Paris FR, America/New_York US, Asia/Singapore SG); a zone of no country (Etc/UTC) gives
/// none, and national numbers then stay as typed.
/// </summary>
public static class PhoneRegion
{
    private static readonly Lazy<FrozenDictionary<string, string>> Countries = new(Load);

    /// <summary>The ISO 3166 alpha-2 code of <paramref name="timeZone"/>'s country; null when it has none or is unknown.</summary>
    public static string? OfTimeZone(string? timeZone) =>
        timeZone is not null && Countries.Value.TryGetValue(timeZone, out var country) ? country : null;

    private static FrozenDictionary<string, string> Load()
    {
        using var stream = typeof(PhoneRegion).Assembly.GetManifestResourceStream("ProDesk.Domain.Contacts.TimeZoneCountries.txt")
            ?? throw new InvalidOperationException("TimeZoneCountries.txt is not embedded.");
        using var reader = new StreamReader(stream);
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is { } line)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (line.Length > 0 && line[0] != '#' && space > 0)
            {
                map[line[..space]] = line[(space + 1)..].Trim();
            }
        }

        return map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}
