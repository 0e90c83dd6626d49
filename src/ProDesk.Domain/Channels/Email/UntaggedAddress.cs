namespace ProDesk.Domain.Channels.Email;

/// <summary>An address without its <c>+tag</c>: the mailbox it delivers to, whatever tag it carries.</summary>
public static class UntaggedAddress
{
    /// <summary>
    /// The local part before any <c>+tag</c> (quotes dropped) and the domain of the address inside
    /// <c>Name &lt;addr&gt;</c> or of the bare address; null when there is no local part.
    /// </summary>
    public static (string Local, string Domain)? Of(string? address)
    {
        var bare = MailHeaderText.BareAddress(address);
        var at = bare.LastIndexOf('@');
        if (at <= 0)
        {
            return null;
        }

        var local = bare[..at].Trim('"');
        var plus = local.IndexOf('+', StringComparison.Ordinal);
        return (plus < 0 ? local : local[..plus], bare[(at + 1)..]);
    }
}
