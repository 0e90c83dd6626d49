using System.Security.Cryptography;
using System.Text;

namespace ProDesk.Domain.Channels.Sms;

/// <summary>
/// Twilio's webhook signature (<c>X-Twilio-Signature</c>): base64 of HMAC-SHA1, keyed with the
/// account's auth token, over the full webhook URL followed by every POST parameter's name and
/// value, sorted by name.
/// </summary>
/// <remarks>
/// <para>Details follow Twilio's own helper libraries (twilio-node, twilio-python) and their test
/// vectors: names sort ordinally; a name sent several times (e.g. repeated <c>Digits</c>)
/// contributes each distinct value once, values sorted ordinally, each preceded by the name;
/// values are the decoded form values, and text is hashed as UTF-8.</para>
/// <para>The URL must be exactly the one configured in Twilio (scheme, host case, query string);
/// behind a proxy, rebuild it from configuration rather than from the request. Since Twilio signs
/// with or without the port inconsistently, <see cref="IsValid"/> also accepts the signature of
/// the URL with its port removed, or with the scheme's default port added, as the libraries do.</para>
/// </remarks>
public static class TwilioSignature
{
    public const string HeaderName = "X-Twilio-Signature";

    /// <summary>The signature Twilio sends for this exact URL and form.</summary>
    public static string Compute(string url, IEnumerable<KeyValuePair<string, string>> form, string authToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(authToken);
        return Convert.ToBase64String(Mac(url, SignedParameters(form), authToken));
    }

    /// <summary>
    /// True when <paramref name="signatureHeader"/> is Twilio's signature of this request, for the
    /// URL as given or with the port variant described on the class. Compares in constant time;
    /// false for a missing or malformed header.
    /// </summary>
    public static bool IsValid(string url, IEnumerable<KeyValuePair<string, string>> form, string authToken, string? signatureHeader)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(authToken);
        var parameters = SignedParameters(form);
        if (string.IsNullOrEmpty(signatureHeader))
        {
            return false;
        }

        var given = Encoding.UTF8.GetBytes(signatureHeader);
        var valid = false;
        foreach (var candidate in UrlVariants(url))
        {
            var expected = Encoding.ASCII.GetBytes(Convert.ToBase64String(Mac(candidate, parameters, authToken)));
            // No short-circuit: every variant is checked, so timing says nothing about which matched.
            valid |= CryptographicOperations.FixedTimeEquals(expected, given);
        }

        return valid;
    }

    private static string SignedParameters(IEnumerable<KeyValuePair<string, string>> form)
    {
        ArgumentNullException.ThrowIfNull(form);
        var text = new StringBuilder();
        var byName = form
            .GroupBy(p => p.Key ?? string.Empty, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in byName)
        {
            foreach (var value in group.Select(p => p.Value ?? string.Empty).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                text.Append(group.Key).Append(value);
            }
        }

        return text.ToString();
    }

#pragma warning disable CA5350 // Twilio's scheme is HMAC-SHA1; verifying it is not a choice of ours.
    private static byte[] Mac(string url, string parameters, string authToken) =>
        HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(url + parameters));
#pragma warning restore CA5350

    // The URL as given, then the same URL with its port removed, or with the scheme's default port
    // (443 / 80) added when it has none. Text outside the port is never touched, because Twilio
    // signs the URL as configured (host case and escaping included), not a normalised form.
    private static IEnumerable<string> UrlVariants(string url)
    {
        yield return url;

        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            yield break;
        }

        var authorityStart = schemeEnd + 3;
        var authorityEnd = url.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0)
        {
            authorityEnd = url.Length;
        }

        var authority = url.AsSpan(authorityStart, authorityEnd - authorityStart);
        var hostStart = authority.LastIndexOf('@') + 1;
        var colon = authority.LastIndexOf(':');
        var hasColon = colon >= hostStart && colon > authority.LastIndexOf(']');
        if (hasColon)
        {
            var port = authority[(colon + 1)..];
            if (port.Length > 0 && !port.ContainsAnyExceptInRange('0', '9'))
            {
                yield return string.Concat(url.AsSpan(0, authorityStart + colon), url.AsSpan(authorityEnd));
            }

            yield break;
        }

        var scheme = url[..schemeEnd];
        var defaultPort = scheme.Equals("https", StringComparison.OrdinalIgnoreCase) ? ":443"
            : scheme.Equals("http", StringComparison.OrdinalIgnoreCase) ? ":80"
            : null;
        if (defaultPort is not null && authorityEnd > authorityStart)
        {
            yield return string.Concat(url.AsSpan(0, authorityEnd), defaultPort, url.AsSpan(authorityEnd));
        }
    }
}
