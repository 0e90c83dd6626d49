using System.Text.RegularExpressions;

namespace ProDesk.Domain.Channels.Email;

/// <summary>One recipient's outcome in a delivery status notification.</summary>
/// <param name="Address">The recipient as written after the address type, e.g. <c>bob@example.test</c>.</param>
/// <param name="Action">Lowercased: <c>failed</c>, <c>delayed</c>, <c>delivered</c>, <c>relayed</c>,
/// <c>expanded</c>, or empty when the report left it out.</param>
/// <param name="Status">The RFC 3463 code, e.g. <c>5.1.1</c>, or empty when missing.</param>
public sealed record RecipientStatus(string Address, string Action, string Status)
{
    /// <summary>
    /// The mailbox will not take mail: the action is <c>failed</c> and the code is permanent (5.x.x).
    /// A failure with a transient or missing code is not enough, as retrying may still succeed.
    /// </summary>
    public bool IsPermanentFailure =>
        Action.Equals("failed", StringComparison.OrdinalIgnoreCase) && Status.StartsWith("5.", StringComparison.Ordinal);
}

/// <summary>The per-recipient part of a delivery status notification; empty when nothing could be read.</summary>
public sealed record DeliveryStatusReport(IReadOnlyList<RecipientStatus> Recipients)
{
    public static DeliveryStatusReport Empty { get; } = new([]);
}

/// <summary>
/// Reads the body of a <c>message/delivery-status</c> part (RFC 3464) so a bounce can mark a
/// contact's address as dead instead of becoming a work item.
/// </summary>
/// <remarks>
/// Bounces come from every kind of MTA, many of them sloppy, so the reader is lenient and never
/// throws: CRLF, LF or CR line ends; folded lines; field names in any case; junk lines without a
/// colon are skipped. Blocks are separated by blank lines; any block with a
/// <c>Final-Recipient</c> (or, failing that, <c>Original-Recipient</c>) is a recipient block, so a
/// missing per-message block does not shift the others. A recipient whose address type is
/// neither <c>rfc822</c> nor <c>utf-8</c> (e.g. an X.400 address) is skipped, since it names no
/// mailbox we could have written to.
/// </remarks>
public static class DeliveryStatus
{
    /// <summary>The recipients the report names; an empty report for null, empty or garbage text.</summary>
    public static DeliveryStatusReport Parse(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return DeliveryStatusReport.Empty;
        }

        var recipients = new List<RecipientStatus>();
        foreach (var block in Blocks(body))
        {
            if (ToRecipient(block) is { } recipient)
            {
                recipients.Add(recipient);
            }
        }

        return recipients.Count == 0 ? DeliveryStatusReport.Empty : new DeliveryStatusReport(recipients);
    }

    /// <summary>
    /// A bounce an MTA wrote as plain text, without an RFC 3464 report, as the report it would have been; null for any
    /// other mail. Exim names the failed recipients in <c>X-Failed-Recipients</c>, which it adds to permanent failures
    /// only (a delay warning has none); qmail writes "This is a permanent error" and a <c>&lt;address&gt;:</c> line per
    /// recipient; Sendmail lists them under "had permanent fatal errors"; Yahoo and others write "&lt;address&gt;:" over the server's
    /// permanent answer (5xx or 5.x.x); Lotus Domino's postmaster lists them under "was not delivered to:" in a "DELIVERY
    /// FAILURE". A notice that the server is still retrying fails nobody. Other mail from <c>mailer-daemon</c> (a Postfix notice in prose) is an empty report: a
    /// machine's notice is no customer's message, so it becomes no work item, and it suppresses nobody. Whatever
    /// this reads, a bounce only suppresses an address we mailed in a message it quotes (IngestEmail).
    /// </summary>
    public static DeliveryStatusReport? FromPlainText(IEnumerable<KeyValuePair<string, string>> headers, string? fromAddress, string? textBody)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var failedHeader = headers.Where(h => h.Key.Trim().Equals("X-Failed-Recipients", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
        if (failedHeader.Count > 0)
        {
            return Failed(failedHeader.SelectMany(v => v.Split(',')).Select(MailHeaderText.BareAddress));
        }

        if (UntaggedAddress.Of(fromAddress) is not { } sender
            || !(sender.Local.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase) || sender.Local.Equals("postmaster", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var daemon = sender.Local.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase);
        var body = textBody ?? "";
        var lines = body.ReplaceLineEndings("\n").Split('\n').Take(MaxPlainTextLines).ToList();
        if (Retrying(body))
        {
            // A delay warning: the server keeps trying, so no address is dead yet, whatever codes it quotes.
            return daemon ? DeliveryStatusReport.Empty : null;
        }

        if (daemon && body.Contains("This is a permanent error", StringComparison.OrdinalIgnoreCase))
        {
            return Failed(lines
                .Select(line => line.Trim())
                .Where(line => line.Length > 3 && line[0] == '<' && line.EndsWith(">:", StringComparison.Ordinal))
                .Select(line => MailHeaderText.BareAddress(line[..^1])));
        }

        // Yahoo's "Sorry, we were unable to deliver your message": "<address>:", then the server's answer with its SMTP
        // code; only a permanent code (5xx, or 5.x.x) next to the address fails it (probe round 17: read as no failure).
        if (WithPermanentCode(lines) is { Count: > 0 } coded)
        {
            return Failed(coded);
        }

        // Lotus Domino's "DELIVERY FAILURE" (its delays say "DELIVERY DELAYED"): the addresses, indented, under
        // "was not delivered to:" (probe round 17: taken for an out-of-office that answers nothing).
        var subject = headers.FirstOrDefault(h => h.Key.Trim().Equals("Subject", StringComparison.OrdinalIgnoreCase)).Value ?? "";
        var notDelivered = lines.FindIndex(line => line.Trim().Equals("was not delivered to:", StringComparison.OrdinalIgnoreCase));
        if (subject.TrimStart().StartsWith("DELIVERY FAILURE", StringComparison.OrdinalIgnoreCase) && notDelivered >= 0)
        {
            return Failed(lines.Skip(notDelivered + 1).SkipWhile(line => line.Trim().Length == 0).TakeWhile(line => line.Trim().Length > 0)
                .Select(line => line.Trim())
                .Where(line => !line.Contains(' ', StringComparison.Ordinal))
                .Select(MailHeaderText.BareAddress));
        }

        if (!daemon)
        {
            // Other postmaster mail may be a person running a mail system: left to the rules for any mail.
            return null;
        }

        // Sendmail's "Returned mail: see transcript for details": a heading, then one <address> line per recipient,
        // each followed by its indented reason, until a blank line (probe round 12: it was read as no failure at all).
        var heading = lines.FindIndex(line => line.Contains("had permanent fatal errors", StringComparison.OrdinalIgnoreCase));
        if (heading >= 0)
        {
            return Failed(lines.Skip(heading + 1).TakeWhile(line => line.Trim().Length > 0)
                .Where(line => line.Length > 2 && line[0] == '<' && line.TrimEnd().EndsWith('>'))
                .Select(MailHeaderText.BareAddress));
        }

        return DeliveryStatusReport.Empty;
    }

    private static readonly Regex AddressLine = new(@"^<(?<address>[^<>\s]+@[^<>\s]+)>:\s*(?<rest>.*)$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static readonly Regex EnhancedCode = new(@"(?<![\w.])(?<code>[245]\.\d{1,3}\.\d{1,3})(?![\w.])", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>A reply code where a server's answer starts ("554: delivery error", "host x said: 550 ...").</summary>
    private static readonly Regex BasicCode = new(@"(?:^|said:)\s*\(?(?<code>[245]\d\d)(?=[\s:-])", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));

    private static readonly string[] RetryWords = ["WARNING ONLY", "will be retried", "still being retried", "will keep trying", "will continue trying", "not yet been delivered"];

    private static bool Retrying(string body) => RetryWords.Any(words => body.Contains(words, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The "&lt;address&gt;:" lines whose answer (the rest of the line and the lines under it, up to a blank line or the next
    /// address) gives a permanent code: the enhanced code when there is one, else the reply code. A 4xx stays a delay.
    /// </summary>
    private static List<string> WithPermanentCode(List<string> lines)
    {
        var failed = new List<string>();
        for (var i = 0; i < lines.Count; i++)
        {
            if (AddressLine.Match(lines[i].Trim()) is not { Success: true } match)
            {
                continue;
            }

            var answer = new List<string> { match.Groups["rest"].Value };
            for (var j = i + 1; j < lines.Count && j <= i + 5 && lines[j].Trim().Length > 0 && !AddressLine.IsMatch(lines[j].Trim()); j++)
            {
                answer.Add(lines[j].Trim());
            }

            var code = answer.Select(line => EnhancedCode.Match(line)).FirstOrDefault(m => m.Success)?.Groups["code"].Value
                ?? answer.Select(line => BasicCode.Match(line)).FirstOrDefault(m => m.Success)?.Groups["code"].Value;
            if (code is not null && code.StartsWith('5'))
            {
                failed.Add(match.Groups["address"].Value);
            }
        }

        return failed;
    }

    /// <summary>Lines of a plain-text bounce read for recipients: they come first, before the returned message.</summary>
    private const int MaxPlainTextLines = 200;

    private static DeliveryStatusReport Failed(IEnumerable<string> addresses)
    {
        var recipients = addresses.Select(a => a.Trim()).Where(a => a.Contains('@', StringComparison.Ordinal)).Distinct(StringComparer.OrdinalIgnoreCase).Take(50)
            .Select(a => new RecipientStatus(a, "failed", "5.0.0")).ToList();
        return recipients.Count == 0 ? DeliveryStatusReport.Empty : new DeliveryStatusReport(recipients);
    }

    /// <summary>The lowercased, distinct addresses that failed permanently, in report order.</summary>
    public static IReadOnlyList<string> PermanentlyFailed(DeliveryStatusReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Recipients
            .Where(r => r.IsPermanentFailure)
            .Select(r => r.Address.ToLowerInvariant())
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    private static RecipientStatus? ToRecipient(Dictionary<string, string> fields)
    {
        var recipient = fields.GetValueOrDefault("final-recipient") ?? fields.GetValueOrDefault("original-recipient");
        if (recipient is null || Address(recipient) is not { Length: > 0 } address)
        {
            return null;
        }

        var action = MailHeaderText.FirstToken(fields.GetValueOrDefault("action")).ToLowerInvariant();
        var status = MailHeaderText.FirstToken(fields.GetValueOrDefault("status"));
        return new RecipientStatus(address, action, status);
    }

    // "rfc822; bob@example.test" -> bob@example.test. A value with no type is taken as an address,
    // as some MTAs leave the type out.
    private static string? Address(string value)
    {
        var semicolon = value.IndexOf(';', StringComparison.Ordinal);
        if (semicolon >= 0)
        {
            var type = value[..semicolon].Trim();
            if (!type.Equals("rfc822", StringComparison.OrdinalIgnoreCase) && !type.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            value = value[(semicolon + 1)..];
        }

        return MailHeaderText.BareAddress(value);
    }

    // Splits into blank-line separated blocks of unfolded fields; the first occurrence of a field
    // in a block wins, as a repeated one would be a broken report anyway.
    private static IEnumerable<Dictionary<string, string>> Blocks(string body)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? lastName = null;
        foreach (var line in body.ReplaceLineEndings("\n").Split('\n'))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                if (fields.Count > 0)
                {
                    yield return fields;
                    fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                }

                lastName = null;
                continue;
            }

            if (line[0] is ' ' or '\t')
            {
                // A continuation of the previous field; after a junk line there is nothing to continue.
                if (lastName is not null)
                {
                    fields[lastName] = fields[lastName] + " " + line.Trim();
                }

                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = colon > 0 ? line[..colon].Trim() : string.Empty;
            if (name.Length == 0 || name.Contains(' ', StringComparison.Ordinal) || fields.ContainsKey(name))
            {
                lastName = null;
                continue;
            }

            fields[name] = line[(colon + 1)..].Trim();
            lastName = name;
        }

        if (fields.Count > 0)
        {
            yield return fields;
        }
    }
}
