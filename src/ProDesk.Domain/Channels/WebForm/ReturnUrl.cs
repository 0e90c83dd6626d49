namespace ProDesk.Domain.Channels.WebForm;

/// <summary>
/// Where a web form may send the browser after a submission: only back to one of the tenant's own
/// hosts, so the form can never be used as an open redirect to a phishing page.
/// </summary>
public static class ReturnUrl
{
    public const int MaxLength = 2000;

    /// <summary>
    /// The URL to redirect to, normalised (send this one, never the raw text, so no other parser reads
    /// it differently), or null when it is not an absolute http(s) URL without user info whose host
    /// (and port, when the tenant's host names one) is one of <paramref name="hosts"/>. Relative and
    /// scheme-relative URLs are refused: the form is posted to our host, not the tenant's site.
    /// </summary>
    public static Uri? Allowed(string? value, IEnumerable<string> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        if (string.IsNullOrWhiteSpace(value) || value.Length > MaxLength || value.Any(char.IsControl)
            || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || uri.UserInfo.Length > 0)
        {
            return null;
        }

        foreach (var host in hosts)
        {
            var colon = host.LastIndexOf(':');
            var (name, port) = colon > 0 && host.IndexOf(']', StringComparison.Ordinal) < colon && int.TryParse(host.AsSpan(colon + 1), out var p)
                ? (host[..colon], (int?)p)
                : (host, null);
            if (string.Equals(uri.IdnHost, name.TrimEnd('.'), StringComparison.OrdinalIgnoreCase) && (port is null || port == uri.Port))
            {
                return uri;
            }
        }

        return null;
    }
}
