using System.Globalization;

namespace ProDesk.Domain.Channels.Email;

/// <summary>
/// An address a customer gives us to answer them at (a web form, the chat's offline form, the API channel, a
/// contact's email): one bare <c>local@domain</c> that an ordinary SMTP relay can deliver to. Refused: a domain
/// without a dot (<c>a@b</c>, <c>user@localhost</c>), an IP literal (<c>a@[127.0.0.1]</c>) or an all-digit top
/// label (mail aimed at an address on our own network), a malformed label (<c>a@-b.com</c>), a quoted or non-ASCII
/// local part (it needs a relay with SMTPUTF8, which most are not). An internationalised domain is kept in its
/// ASCII (punycode) form, which every relay accepts.
/// </summary>
public static class ReplyAddress
{
    private const string LocalSymbols = "!#$%&'*+/=?^_`{|}~-.";

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    /// <summary>
    /// How suppressions and the automatic-mail loop breaker name an address, whatever form a row or a report holds:
    /// <see cref="Normalize"/>d, or just lower-cased when it is not one we can reply to.
    /// </summary>
    public static string Key(string address) => Normalize(address) ?? address.ToLowerInvariant();

    /// <summary>The address as we store and send to it (lower-cased, its domain in ASCII), or null when it is not one we can reply to.</summary>
    public static string? Normalize(string? address)
    {
        if (string.IsNullOrEmpty(address) || address.Length > 254)
        {
            return null;
        }

        var at = address.LastIndexOf('@');
        if (at <= 0 || at > 64 || at == address.Length - 1)
        {
            return null;
        }

        var local = address[..at];
        if (local.StartsWith('.') || local.EndsWith('.') || local.Contains("..", StringComparison.Ordinal)
            || !local.All(c => char.IsAsciiLetterOrDigit(c) || LocalSymbols.Contains(c, StringComparison.Ordinal)))
        {
            return null;
        }

        string domain;
        try
        {
            domain = Idn.GetAscii(address[(at + 1)..]).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }

        var labels = domain.Split('.');
        if (labels.Length < 2 || domain.Length > 253
            || labels.Any(l => l.Length is 0 or > 63 || l.StartsWith('-') || l.EndsWith('-') || !l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            || labels[^1].All(char.IsAsciiDigit))
        {
            return null;
        }

        // Lower-cased whole: every mailbox provider treats the local part so, and contacts are matched by it.
        var normalized = $"{local}@{domain}".ToLowerInvariant();
        return normalized.Length <= 254 ? normalized : null;
    }
}
