namespace ProDesk.Domain.Channels.Email;

/// <summary>
/// The people on copy of a conversation by mail: whom a customer's mail also named (To and Cc beside the desk), and so
/// whom an agent's reply goes to besides the customer, as a reply-all in a mail client would. Our own addresses never
/// count (the desk's support address with any tag, the addresses the mail was delivered to, a reply address carrying an
/// item token), nor addresses a relay cannot deliver to, nor machine senders (no-reply, mailer-daemon).
/// </summary>
public static class MailCopies
{
    /// <summary>
    /// Copies kept per message at most: a reply-all among colleagues, not a mailing (Zendesk stops at 48). A mail naming more
    /// keeps the first ones in the order written.
    /// </summary>
    public const int Max = 20;

    /// <summary>
    /// The copies of a mail from <paramref name="sender"/> that named <paramref name="addressed"/> (To, then Cc), normalized
    /// as replies are addressed (<see cref="ReplyAddress.Normalize"/>), each once, at most <see cref="Max"/>. None when the
    /// mail names none of <paramref name="ours"/>: it reached the desk through an alias we do not know (a client's
    /// info@ forwarding to us), which cannot be told from a colleague, and copying the alias would send the desk's
    /// own mail back to it.
    /// </summary>
    /// <param name="ours">The support address and the addresses the mail was delivered to (Delivered-To, X-Original-To ...).</param>
    public static IReadOnlyList<string> Of(IEnumerable<string> addressed, string? sender, IEnumerable<string?> ours)
    {
        var copies = Others(addressed, sender, ours, out var namesDesk);
        return namesDesk ? copies : [];
    }

    /// <summary>Whether a mail names anyone but <paramref name="sender"/> and <paramref name="ours"/>: someone <see cref="Of"/> might copy.</summary>
    public static bool NamesOthers(IEnumerable<string> addressed, string? sender, IEnumerable<string?> ours) =>
        Others(addressed, sender, ours, out _).Count > 0;

    /// <summary>The copies an agent's reply goes to: who wrote the customer's latest mail and whom it named, but the customer.</summary>
    /// <param name="latestFrom">The sender of the latest inbound mail on the item (the customer, or a colleague on copy writing back).</param>
    /// <param name="latestCopies">That mail's stored copies (<see cref="Join"/>).</param>
    /// <param name="customer">The address the reply goes to.</param>
    /// <param name="ours">The desk's support address.</param>
    public static IReadOnlyList<string> ForReply(string? latestFrom, string? latestCopies, string customer, IEnumerable<string?> ours) =>
        Others([.. latestFrom is null ? [] : new[] { latestFrom }, .. Split(latestCopies)], customer, ours, out _);

    /// <summary>As a column holds them: space-separated; null for none.</summary>
    public static string? Join(IReadOnlyCollection<string> copies) => copies.Count == 0 ? null : string.Join(' ', copies);

    public static IReadOnlyList<string> Split(string? stored) =>
        string.IsNullOrWhiteSpace(stored) ? [] : stored.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static List<string> Others(IEnumerable<string> addressed, string? sender, IEnumerable<string?> ours, out bool namesOurs)
    {
        ArgumentNullException.ThrowIfNull(addressed);
        ArgumentNullException.ThrowIfNull(ours);
        var own = ours.Select(UntaggedAddress.Of).OfType<(string Local, string Domain)>().ToList();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (ReplyAddress.Normalize(sender) is { } from)
        {
            seen.Add(from);
        }

        namesOurs = false;
        var copies = new List<string>();
        foreach (var candidate in addressed)
        {
            // Ours before the address is normalized: a reply address with its token is longer than SMTP's 64 for a local part.
            if (IsOurs(candidate, own) || ReplyToken.TryFindToken([candidate], out _))
            {
                namesOurs = true;
                continue;
            }

            if (ReplyAddress.Normalize(candidate) is { } address && !seen.Contains(address) && copies.Count < Max && !AutomaticMail.IsMachineSender(address))
            {
                seen.Add(address);
                copies.Add(address);
            }
        }

        return copies;
    }

    private static bool IsOurs(string address, List<(string Local, string Domain)> own) =>
        UntaggedAddress.Of(address) is { } mailbox && own.Any(o =>
            string.Equals(o.Local, mailbox.Local, StringComparison.OrdinalIgnoreCase) && string.Equals(o.Domain, mailbox.Domain, StringComparison.OrdinalIgnoreCase));
}
