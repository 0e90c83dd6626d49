using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.Utils;
using ProDesk.Domain.Channels.Email;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Reads one raw inbound message (RFC 5322 / MIME) into a <see cref="ParsedEmail"/>. The input is
/// hostile by default, so the work is bounded before MimeKit builds anything: a streaming pass
/// (<see cref="MimeReader"/>, no tree, no content kept) counts parts, headers and nesting, and
/// refuses the message past <see cref="EmailParserLimits"/>; only then does <see cref="MimeParser"/>
/// build the tree, which is walked without recursion. Broken MIME that MimeKit can make sense of
/// (a missing closing boundary, an unknown charset or transfer encoding) is read as well as it
/// can be; what it cannot make sense of throws <see cref="UnparseableEmailException"/>.
/// </summary>
public static partial class EmailParser
{
    // .NET resolves only UTF-*, ASCII and Latin-1 by name; mail still comes in windows-125x, ISO-2022-JP,
    // Shift_JIS, GB18030, Big5, EUC-KR/ks_c_5601... Without the code pages MimeKit falls back and the text is garbled.
    // The host registers them at start too (ChannelsExtensions): MimeKit remembers a charset it could not find, so
    // they must be there before its first lookup; here they serve the parser's own fallback encoding.
    static EmailParser()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        UnlabeledFallback = Encoding.GetEncoding(1252);
    }

    /// <summary>Raw 8-bit text that names no charset and is not UTF-8: what Windows clients write, and a superset of Latin-1's printable characters.</summary>
    internal static readonly Encoding UnlabeledFallback;

    public const string NoSubject = "(no subject)";

    public const int MaxSubjectLength = 998;

    /// <summary>A text/plain part this short beside an HTML part that says far more is a placeholder, not the message.</summary>
    private const int MaxPlaceholderLength = 200;

    private const int MaxNameLength = 256;

    private const int MaxAddressLength = 320;

    private const int MaxIdLength = 998;

    private const int MaxReferences = 100;

    /// <summary>In-Reply-To's ids kept: RFC 5322 allows one per parent, and a reply has a few parents at most.</summary>
    public const int MaxInReplyTo = 10;

    private const int MaxRecipients = 500;

    private const int MaxHeaderValueLength = 16 * 1024;

    private const int MaxDeliveryStatusLength = 64 * 1024;

    private static readonly string[] RecipientHeaders = ["Delivered-To", "X-Original-To", "Envelope-To"];

    /// <summary>Parses a message read from <paramref name="raw"/>; at most <see cref="EmailParserLimits.MaxBytes"/> are read.</summary>
    public static ParsedEmail Parse(Stream raw, EmailParserLimits? limits = null)
    {
        limits ??= EmailParserLimits.Default;
        using var buffer = StartBuffer(raw, limits);
        var chunk = new byte[81920];
        int read;
        while ((read = raw.Read(chunk, 0, chunk.Length)) > 0)
        {
            Append(buffer, chunk, read, limits);
        }

        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), limits);
    }

    /// <summary>
    /// Like <see cref="Parse(Stream, EmailParserLimits?)"/>, reading a network stream without
    /// blocking a thread; the parsing itself is CPU work on the buffered bytes.
    /// </summary>
    public static async Task<ParsedEmail> ParseAsync(Stream raw, EmailParserLimits? limits = null, CancellationToken cancellationToken = default)
    {
        limits ??= EmailParserLimits.Default;
        using var buffer = StartBuffer(raw, limits);
        var chunk = new byte[81920];
        int read;
        while ((read = await raw.ReadAsync(chunk, cancellationToken)) > 0)
        {
            Append(buffer, chunk, read, limits);
        }

        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), limits);
    }

    /// <summary>Parses a message held in memory.</summary>
    public static ParsedEmail Parse(byte[] raw, EmailParserLimits? limits = null) => Parse(raw.AsMemory(), limits ?? EmailParserLimits.Default);

    private static ParsedEmail Parse(ReadOnlyMemory<byte> raw, EmailParserLimits limits)
    {
        if (raw.Length > limits.MaxBytes)
        {
            throw TooLarge(limits);
        }

        // Blank lines before the first header (a gateway's stray CRLF) would end the headers before they begin.
        var blank = raw.Span.IndexOfAnyExcept("\r\n"u8);
        raw = blank < 0 ? ReadOnlyMemory<byte>.Empty : raw[blank..];
        if (raw.Length == 0)
        {
            throw new UnparseableEmailException("the message is empty");
        }

        raw = WithLineFeeds(raw);
        raw = WithoutDoubledCarriageReturns(raw);
        raw = WithBlankLineAfterHeaders(raw);

        try
        {
            try
            {
                return ParseEmail(raw, limits);
            }
            catch (FormatException) when (HeadersStart(raw.Span) is > 0 and var start)
            {
                // A line above the headers that is none ("---- Original email message ----" over a pasted message, a web
                // form mailer's banner): the message read from its first header, as a person reading it would. Only when
                // the whole could not be read, so a header MimeKit reads and this would not is never dropped.
                return ParseEmail(raw[start..], limits);
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or NotSupportedException
            or IOException or InsufficientExecutionStackException)
        {
            // MimeKit signals unreadable input with these; all of them mean "quarantine it".
            throw new UnparseableEmailException($"not a readable MIME message: {MailText.Line(e.Message, 200)}", e);
        }
    }

    private static ParsedEmail ParseEmail(ReadOnlyMemory<byte> raw, EmailParserLimits limits)
    {
        var options = Options(limits);
        using (var scan = Open(raw))
        {
            new StructureGuard(options, scan, limits).ReadMessage();
        }

        // Persistent: the contents stay views over this stream (and the buffer under it) instead of being copied.
        using var stream = Open(raw);
        var message = new MimeParser(options, stream, MimeFormat.Entity, persistent: true).ParseMessage();
        try
        {
            if (HeaderCharset(message, raw.Span) is { } declared)
            {
                message.Dispose();
                options.CharsetEncoding = declared;
                stream.Position = 0;
                message = new MimeParser(options, stream, MimeFormat.Entity, persistent: true).ParseMessage();
            }

            return Read(message, options, limits, raw.Span);
        }
        finally
        {
            message.Dispose();
        }
    }

    /// <summary>
    /// A message whose lines end in a bare CR (classic Mac OS, some old gateways) has, for MimeKit, one line: every header
    /// after the first and the whole body vanish into it. With no LF anywhere, each CR becomes CRLF.
    /// </summary>
    private static ReadOnlyMemory<byte> WithLineFeeds(ReadOnlyMemory<byte> raw)
    {
        var span = raw.Span;
        if (span.Contains((byte)'\n') || !span.Contains((byte)'\r'))
        {
            return raw;
        }

        var mended = new byte[span.Length + span.Count((byte)'\r')];
        var at = 0;
        foreach (var b in span)
        {
            mended[at++] = b;
            if (b == '\r')
            {
                mended[at++] = (byte)'\n';
            }
        }

        return mended;
    }

    /// <summary>
    /// A Windows tool that writes a CRLF mail as text puts a CR before every LF, so each line ends "\r\r\n" and MimeKit
    /// reads the lone CR as a line of its own: every line of the body was followed by a blank one (probe round 18). When
    /// every line of the headers ends so, the whole mail went through that writer, and each "\r\r\n" is "\r\n" again.
    /// Nothing else changes, so a file sent unencoded gets back the bytes it had before the writer added its CRs.
    /// </summary>
    private static ReadOnlyMemory<byte> WithoutDoubledCarriageReturns(ReadOnlyMemory<byte> raw)
    {
        var span = raw.Span;
        // The first line is a header line: unless it ends so, no scan of the mail is needed (every mail comes through here).
        var firstEnd = span.IndexOf((byte)'\n');
        if (firstEnd < 2 || span[firstEnd - 1] != '\r' || span[firstEnd - 2] != '\r')
        {
            return raw;
        }

        var blank = span.IndexOf("\r\r\n\r\r\n"u8);
        var headers = blank < 0 ? span : span[..(blank + 3)];
        var lines = headers.Count((byte)'\n');
        if (lines == 0 || headers.Count("\r\r\n"u8) != lines)
        {
            return raw;
        }

        var mended = new byte[span.Length - span.Count("\r\r\n"u8)];
        var at = 0;
        for (var rest = span; !rest.IsEmpty;)
        {
            var doubled = rest.IndexOf("\r\r\n"u8);
            var keep = doubled < 0 ? rest.Length : doubled + 1;
            rest[..keep].CopyTo(mended.AsSpan(at));
            at += keep;
            rest = doubled < 0 ? [] : rest[(doubled + 2)..];
        }

        return mended;
    }

    /// <summary>
    /// A sender that forgets the blank line between the headers and the body (a script writing the body straight after
    /// Content-Type) puts the body's first line where a header should be; MimeKit drops that line and all that follows.
    /// The first line of the top-level headers that is neither a field nor a folded continuation, and has no field after
    /// it, starts the body, as a reader would take it. Lines before the first field (an mbox "From " line, a banner) are
    /// left to the parser.
    /// </summary>
    private static ReadOnlyMemory<byte> WithBlankLineAfterHeaders(ReadOnlyMemory<byte> raw)
    {
        var span = raw.Span;
        var seenField = false;
        for (var offset = 0; offset >= 0 && offset < span.Length;)
        {
            var line = FirstLine(span[offset..], out var next);
            if (line.IsEmpty)
            {
                return raw;
            }

            if (IsHeaderField(line))
            {
                seenField = true;
            }
            else if (seenField && line[0] is not ((byte)' ' or (byte)'\t'))
            {
                // A stray line with fields after it ("X-Foo bar" among the headers) is one MimeKit reads past: not the body.
                if (FieldFollows(span[offset..]))
                {
                    return raw;
                }

                var mended = new byte[span.Length + 2];
                span[..offset].CopyTo(mended);
                "\r\n"u8.CopyTo(mended.AsSpan(offset));
                span[offset..].CopyTo(mended.AsSpan(offset + 2));
                return mended;
            }

            offset = next < 0 ? -1 : offset + next;
        }

        return raw;
    }

    /// <summary>Whether a header field comes after the first line of <paramref name="rest"/>, before a blank line ends the headers.</summary>
    private static bool FieldFollows(ReadOnlySpan<byte> rest)
    {
        FirstLine(rest, out var next);
        while (next >= 0)
        {
            rest = rest[next..];
            var line = FirstLine(rest, out next);
            if (line.IsEmpty)
            {
                return false;
            }

            if (IsHeaderField(line))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The first line of <paramref name="text"/> without its line end; <paramref name="next"/> is where the next begins, -1 after the last.</summary>
    private static ReadOnlySpan<byte> FirstLine(ReadOnlySpan<byte> text, out int next)
    {
        var end = text.IndexOf((byte)'\n');
        next = end < 0 ? -1 : end + 1;
        var line = end < 0 ? text : text[..end];
        return line.EndsWith((byte)'\r') ? line[..^1] : line;
    }

    /// <summary>Lines above the headers skipped at most: a banner or two, not a page of text taken for a mail.</summary>
    private const int MaxLinesBeforeHeaders = 3;

    /// <summary>Where the first header field begins when up to <see cref="MaxLinesBeforeHeaders"/> lines that are none come before it; else 0.</summary>
    private static int HeadersStart(ReadOnlySpan<byte> raw)
    {
        var offset = 0;
        for (var line = 0; line <= MaxLinesBeforeHeaders && offset < raw.Length; line++)
        {
            var rest = raw[offset..];
            var end = rest.IndexOf((byte)'\n');
            if (IsHeaderField(end < 0 ? rest : rest[..end]))
            {
                return offset;
            }

            if (end < 0)
            {
                return 0;
            }

            offset += end + 1;
        }

        return 0;
    }

    /// <summary>RFC 5322 3.6.8: a field name of printable US-ASCII other than the colon, then the colon.</summary>
    private static bool IsHeaderField(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        // RFC 5322 4.5.3's obsolete syntax allows white space before the colon ("Subject : hi"), and MimeKit reads it.
        var name = colon > 0 ? line[..colon].TrimEnd(" \t"u8) : [];
        return !name.IsEmpty && !name.ContainsAnyExceptInRange((byte)33, (byte)126);
    }

    /// <summary>
    /// Raw 8-bit header text that is not UTF-8 is read in the charset the message declares for its text, as mail
    /// clients read it: a Chinese client's GB2312 subject and sender name would otherwise come out as windows-1252
    /// ("ÌáÊ¾" for "提示"). Null when the headers are 7-bit or UTF-8, or the text declares no charset but a Western one.
    /// </summary>
    private static Encoding? HeaderCharset(MimeMessage message, ReadOnlySpan<byte> raw)
    {
        var (lf, crlf) = (raw.IndexOf("\n\n"u8), raw.IndexOf("\n\r\n"u8));
        var end = lf < 0 ? crlf : crlf < 0 ? lf : Math.Min(lf, crlf);
        var headers = end < 0 ? raw : raw[..end];
        if (!headers.ContainsAnyInRange((byte)0x80, (byte)0xFF) || System.Text.Unicode.Utf8.IsValid(headers))
        {
            return null;
        }

        var charset = TextCharset(message);
        return charset is null || BodyWalk.WesternSingleByte.Contains(charset) ? null : EightBitCharset(charset);
    }

    /// <summary>The charset the message declares for its text: its first text part's.</summary>
    private static string? TextCharset(MimeMessage message) =>
        message.BodyParts.OfType<TextPart>().Select(p => p.ContentType.Charset?.Trim()).FirstOrDefault(c => !string.IsNullOrEmpty(c));

    /// <summary>The 8-bit charset <paramref name="charset"/> names, when .NET knows it and it reads raw bytes otherwise than UTF-8 or the windows-1252 fallback do.</summary>
    private static Encoding? EightBitCharset(string? charset)
    {
        if (string.IsNullOrWhiteSpace(charset) || BodyWalk.IsAscii(charset.Trim()) || BodyWalk.IsUtf8(charset.Trim()))
        {
            return null;
        }

        try
        {
            return Encoding.GetEncoding(charset.Trim()) is { CodePage: not (1252 or 65001 or 20127) } encoding ? encoding : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static MemoryStream StartBuffer(Stream raw, EmailParserLimits limits)
    {
        // A stream that knows its length is refused before a byte is read.
        if (raw.CanSeek && raw.Length - raw.Position > limits.MaxBytes)
        {
            throw TooLarge(limits);
        }

        return new MemoryStream();
    }

    private static void Append(MemoryStream buffer, byte[] chunk, int count, EmailParserLimits limits)
    {
        if (buffer.Length + count > limits.MaxBytes)
        {
            throw TooLarge(limits);
        }

        buffer.Write(chunk, 0, count);
    }

    private static MemoryStream Open(ReadOnlyMemory<byte> raw) =>
        MemoryMarshal.TryGetArray(raw, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(raw.ToArray(), writable: false);

    private static ParserOptions Options(EmailParserLimits limits)
    {
        var options = ParserOptions.Default.Clone();

        // MimeKit's own ceiling sits above ours so that StructureGuard, not a silent flattening, decides.
        options.MaxMimeDepth = limits.MaxMimeDepth * 2 + 2;
        options.MaxAddressGroupDepth = 3;

        // Raw 8-bit headers are tried as UTF-8 first, then as this; windows-1252 maps every byte, so nothing is ever undecodable.
        options.CharsetEncoding = UnlabeledFallback;
        options.RespectContentLength = false;
        return options;
    }

    private static ParsedEmail Read(MimeMessage message, ParserOptions options, EmailParserLimits limits, ReadOnlySpan<byte> raw)
    {
        var headers = message.Headers;
        var (from, sentBy) = Customer(message);
        var body = new BodyWalk(limits, TextCharset(message));
        body.Walk(message.Body);

        var html = body.Html is null ? null : MailText.Body(body.Html, limits.MaxHtmlChars);
        string? strippedText = null;
        if (html is not null && TagCount(html) > limits.MaxHtmlTags)
        {
            // Too many elements to sanitize and show (an ERP's 6,000-row report): its text comes from a linear tag strip (no
            // DOM) and the page itself is kept as a file. Quarantining it, or showing only the text part's "use an HTML
            // viewer" placeholder, lost the request above the table (probe round 19).
            strippedText = MailText.Body(HtmlStrip.ToText(html, limits.MaxTextChars), limits.MaxTextChars, markCut: true);
            body.KeepOriginalHtml(body.Html!);
            html = null;
        }

        var sanitized = html is null ? null : MailHtmlSanitizer.Instance.Sanitize(html).Trim();
        if (sanitized is not null && body.Html!.Length > limits.MaxHtmlChars)
        {
            sanitized += $"<p>{System.Net.WebUtility.HtmlEncode(MailText.CutMarker.Trim())}</p>";
        }

        // An empty text/plain beside real HTML is a placeholder some senders add; the HTML is the message then. So is a
        // short one the HTML says far more than ("This message requires an HTML capable mail client", probe round 12):
        // the text is what the API, previews and replies' quotes show, and the placeholder told them nothing. Beside a
        // page too large to show, only a text that speaks of HTML is taken for one: a report's one-line summary over its
        // 8,000-row table is the message.
        string? htmlText = null;
        string HtmlTextOf() => htmlText ??= strippedText ?? HtmlText.ToPlainText(sanitized!, limits.MaxTextChars, markCut: true);
        var hasHtml = sanitized is not null || strippedText is not null;
        var text = !string.IsNullOrWhiteSpace(body.Text) || !hasHtml
            ? OutlookPicture.Replace(MailText.Body(body.Text, limits.MaxTextChars, markCut: true), "")
            : HtmlTextOf();
        if (hasHtml && body.HtmlFirstBeside is { } htmlFirst && !string.IsNullOrWhiteSpace(body.Text) && !SameWords(text, HtmlTextOf()))
        {
            // A text part and an HTML part side by side in a multipart/mixed are not two renderings of one message but two
            // pieces of it (a comment over a receipt, a gateway's disclaimer under a web mailer's HTML): both are the message,
            // in the order they came, in the text and in the page (probe round 19). Each view showed only one of them.
            var fromHtml = HtmlTextOf();
            text = MailText.Body(htmlFirst ? $"{fromHtml.TrimEnd()}\n\n{text.Trim()}" : $"{text.TrimEnd()}\n\n{fromHtml.Trim()}", limits.MaxTextChars, markCut: true);
            if (sanitized is not null)
            {
                var pre = $"<pre style=\"white-space:pre-wrap\">{System.Net.WebUtility.HtmlEncode(OutlookPicture.Replace(MailText.Body(body.Text, limits.MaxTextChars), "").Trim())}</pre>";
                sanitized = htmlFirst ? sanitized + pre : pre + sanitized;
            }
        }
        else if (hasHtml && !string.IsNullOrWhiteSpace(body.Text) && text.Length <= MaxPlaceholderLength
            && (strippedText is null || text.Contains("HTML", StringComparison.OrdinalIgnoreCase))
            && HtmlTextOf() is var fromHtml && fromHtml.Length > (2 * text.Length) + MaxPlaceholderLength)
        {
            text = fromHtml;
        }

        // Notes go under whatever the text came to be (the mail's own, or its HTML's), each in brackets.
        if (CutOffAttachment(message.Body, raw, body.Attachments) is { } cutOff)
        {
            body.Notes.Add(cutOff);
        }

        if (body.Notes.Count > 0)
        {
            text = string.Join("\n\n", [.. string.IsNullOrWhiteSpace(text) ? [] : new[] { text.TrimEnd() }, .. body.Notes.Select(n => $"[{n}]")]);
        }

        var subject = MailText.Line(SubjectOf(message, options), MaxSubjectLength);
        var (addressed, deliveredTo) = Recipients(message, options);
        List<string> inReplyTo = headers[HeaderId.InReplyTo] is { } inReplyToHeader ? [.. Ids(inReplyToHeader).Distinct(StringComparer.Ordinal).Take(MaxInReplyTo)] : [];

        return new ParsedEmail
        {
            MessageId = FirstId(headers[HeaderId.MessageId]),
            InReplyTo = inReplyTo.FirstOrDefault(),
            AlsoInReplyTo = [.. inReplyTo.Skip(1)],
            References = References(headers),
            Date = headers[HeaderId.Date] is { } date && DateUtils.TryParse(date, out var parsed) ? parsed : null,
            FromAddress = Address(from),
            FromName = from is null ? null : NullIfEmpty(MailText.Line(from.Name, MaxNameLength)),
            ReplyTo = Address(message.ReplyTo.Mailboxes.FirstOrDefault()),
            SentBy = Address(sentBy),
            SentByName = sentBy is null ? null : NullIfEmpty(MailText.Line(sentBy.Name, MaxNameLength)),
            Addressed = addressed,
            DeliveredTo = deliveredTo,
            Subject = subject.Length == 0 ? NoSubject : subject,
            TextBody = text,
            HtmlBody = sanitized,
            Attachments = body.Attachments,
            Headers = [.. headers.Select(h => new KeyValuePair<string, string>(h.Field, MailText.Line(h.Value, MaxHeaderValueLength)))],
            ReturnPath = ReturnPath(headers[HeaderId.ReturnPath]),
            DeliveryStatus = body.DeliveryStatus,
            IsReadReceipt = body.IsReadReceipt,
        };
    }

    /// <summary>
    /// The subject decoded from its raw bytes: MimeKit's Subject unfolds after decoding, so a line break inside an
    /// encoded word ("Line1\r\nLine2", a web form's two-line subject) vanished and glued the words; here it is kept
    /// for <see cref="MailText.Line"/> to turn into a space, as it does folding white space.
    /// </summary>
    private static string? SubjectOf(MimeMessage message, ParserOptions options) =>
        message.Headers.FirstOrDefault(h => h.Id == HeaderId.Subject) is { } header ? Rfc2047.DecodeText(options, header.RawValue) : null;

    /// <summary>
    /// A note for the agent when the mail ends inside a multipart whose closing boundary never comes and its last part
    /// is a file: the mail was cut off (a full mailbox, a relay's size limit, a client that crashed), and that file is
    /// likely missing its end. Taken as it is rather than quarantined, since its text is usually all there.
    /// </summary>
    private static string? CutOffAttachment(MimeEntity? body, ReadOnlySpan<byte> raw, List<ParsedAttachment> attachments)
    {
        var unclosed = false;
        var entity = body;
        while (entity is Multipart { Count: > 0 } multipart)
        {
            unclosed |= multipart.Boundary is { Length: > 0 } boundary && raw.IndexOf(Encoding.ASCII.GetBytes($"--{boundary}--")) < 0;
            entity = multipart[^1];
        }

        return unclosed && entity is MimePart { IsAttachment: true } && attachments.Count > 0
            ? $"This mail was cut off before its end: the attachment {attachments[^1].FileName} may be incomplete."
            : null;
    }

    /// <summary>
    /// Whether two texts have the same letters and digits in the same order: a script that labels its text and HTML renderings
    /// multipart/mixed instead of alternative sends one message twice, and it is shown once.
    /// </summary>
    private static bool SameWords(string a, string b)
    {
        int i = 0, j = 0;
        while (true)
        {
            while (i < a.Length && !char.IsLetterOrDigit(a[i]))
            {
                i++;
            }

            while (j < b.Length && !char.IsLetterOrDigit(b[j]))
            {
                j++;
            }

            if (i == a.Length || j == b.Length)
            {
                return i == a.Length && j == b.Length;
            }

            if (char.ToLowerInvariant(a[i++]) != char.ToLowerInvariant(b[j++]))
            {
                return false;
            }
        }
    }

    /// <summary>Every '&lt;' followed by a letter: not parsing, just an upper bound on the elements the HTML parser would build.</summary>
    private static int TagCount(string html)
    {
        var count = 0;
        for (var i = html.IndexOf('<', StringComparison.Ordinal); i >= 0 && i + 1 < html.Length; i = html.IndexOf('<', i + 1))
        {
            if (char.IsAsciiLetter(html[i + 1]))
            {
                count++;
            }
        }

        return count;
    }

    private static UnparseableEmailException TooLarge(EmailParserLimits limits) =>
        new($"the message is larger than {limits.MaxBytes} bytes");

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>
    /// Who wrote to us, as the one to answer, and the From mailbox when that is someone else: the first usable From
    /// mailbox, else Sender, else Reply-To (mail without a usable From is still someone's). A Reply-To naming one other
    /// mailbox is where its author asks for answers (RFC 5322 3.6.2), as every mail client honours it: a web site's
    /// contact form (wordpress@, info@, a shop's mailer@) writes on a visitor's behalf and names the visitor there, and
    /// taking From made every visitor one contact and answered the web site (probe round 18). Not a no-reply Reply-To,
    /// not several (a list of people is not one customer), and a list's mail is settled by <see cref="ListPoster"/>.
    /// Ingestion keeps From when Reply-To turns out to be a help desk's own address.
    /// </summary>
    private static (MailboxAddress? Customer, MailboxAddress? SentBy) Customer(MimeMessage message)
    {
        static MailboxAddress? Usable(MailboxAddress? mailbox) => Address(mailbox) is null ? null : mailbox;
        var author = message.From.Mailboxes.Select(Usable).FirstOrDefault(m => m is not null)
            ?? Usable(message.Sender) ?? message.ReplyTo.Mailboxes.Select(Usable).FirstOrDefault(m => m is not null);
        var replyTo = message.ReplyTo.Mailboxes.Select(Usable).FirstOrDefault(m => m is not null);
        if (author is null)
        {
            return (null, null);
        }

        if (ListPoster(message, author, replyTo) is { } poster)
        {
            return (poster, null);
        }

        var listed = !string.IsNullOrWhiteSpace(message.Headers["List-Id"]);
        return !listed && replyTo is not null && message.ReplyTo.Mailboxes.Count() == 1 && Address(replyTo) != Address(author)
            && !AutomaticMail.IsNoReplySender(Address(replyTo)) && !AutomaticMail.IsMachineSender(Address(replyTo))
                ? (replyTo, author)
                : (author, null);
    }

    /// <summary>
    /// Where Outlook's text had a picture, "[cid:image001.png@01DB3D7C.5A1B2C30]" (the picture is attached): noise to a
    /// reader, as Apple's U+FFFC is (MailText). A placeholder alone on its line takes the line with it.
    /// </summary>
    private static readonly Regex OutlookPicture = new(
        @"^[ \t]*\[cid:[^\[\]\s]{1,256}\][ \t]*(?:\n|$)|\[cid:[^\[\]\s]{1,256}\]", RegexOptions.CultureInvariant | RegexOptions.Multiline, TimeSpan.FromSeconds(1));

    /// <summary>"Alice Wong via Acme-users" (Mailman 3) or "'Greta Green' via Acme Users" (Google Groups).</summary>
    private static readonly Regex ViaList = new(
        @"^\s*['""]?(?<name>.+?)['""]?\s+via\s+\S.*$",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase,
        TimeSpan.FromSeconds(1));

    private static readonly Regex ListPost = new(@"<mailto:(?<address>[^>?]+)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));

    /// <summary>
    /// The person who wrote a list post whose From the list rewrote to its own address (DMARC mitigation): the list names
    /// them in X-Original-From, X-Original-Sender or Reply-To. Without this the list became the customer, and the agent's
    /// reply went to every subscriber. Only for mail that is a list's (List-Id, or "X via Y" from the posting address), and
    /// never a Reply-To that is the list itself (a list that asks for replies to the list).
    /// </summary>
    private static MailboxAddress? ListPoster(MimeMessage message, MailboxAddress author, MailboxAddress? replyTo)
    {
        var from = Address(author);
        // List-Post: <mailto:list@host> (RFC 2369), or NO.
        var post = ListPost.Match(message.Headers["List-Post"] ?? "");
        var posting = post.Success && MailboxAddress.TryParse(Uri.UnescapeDataString(post.Groups["address"].Value), out var postMailbox) ? Address(postMailbox) : null;
        var via = ViaList.Match(author.Name ?? "");
        var toList = from is not null && from == posting;
        if (from is null || !(!string.IsNullOrWhiteSpace(message.Headers["List-Id"]) || (via.Success && toList)))
        {
            return null;
        }

        bool IsList(MailboxAddress candidate) => Address(candidate) is not { } address || address == from || address == posting;

        MailboxAddress? original = null;
        foreach (var field in new[] { "X-Original-From", "X-Original-Sender" })
        {
            if (message.Headers[field] is { } value && InternetAddressList.TryParse(value, out var list)
                && list.Mailboxes.FirstOrDefault() is { } mailbox && !IsList(mailbox))
            {
                original = mailbox;
                break;
            }
        }

        // Reply-To only when From was rewritten: a person posting from their own address (d09b) may name another there.
        original ??= (via.Success || toList) && replyTo is not null && !IsList(replyTo) ? replyTo : null;
        if (original is null)
        {
            return null;
        }

        // A bare X-Original-Sender names no one: the name is Reply-To's for the same address, else the one before "via".
        if (string.IsNullOrWhiteSpace(original.Name))
        {
            var name = replyTo is not null && Address(replyTo) == Address(original) && !string.IsNullOrWhiteSpace(replyTo.Name) ? replyTo.Name
                : via.Success ? via.Groups["name"].Value.Trim() : null;
            original = new MailboxAddress(name, original.Address);
        }

        return original;
    }

    /// <summary>A usable address, lower-cased: no spaces or control characters, not absurdly long.</summary>
    private static string? Address(MailboxAddress? mailbox)
    {
        var address = mailbox?.Address?.Trim();
        if (string.IsNullOrEmpty(address) || address.Length > MaxAddressLength
            || address.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '<' or '>' or '"'))
        {
            return null;
        }

        // As every channel keys a contact (the API's "x@exämple.com" is "x@xn--exmple-cua.com"): one person, one contact.
        return ReplyAddress.Key(address);
    }

    /// <summary>To and Cc; the addresses the mail was delivered to (<see cref="RecipientHeaders"/>). Each list names an address once.</summary>
    private static (List<string> Addressed, List<string> DeliveredTo) Recipients(MimeMessage message, ParserOptions options)
    {
        static void Add(List<string> into, IEnumerable<MailboxAddress> mailboxes)
        {
            foreach (var mailbox in mailboxes)
            {
                if (into.Count < MaxRecipients && Address(mailbox) is { } address && !into.Contains(address, StringComparer.Ordinal))
                {
                    into.Add(address);
                }
            }
        }

        List<string> addressed = [];
        List<string> deliveredTo = [];
        Add(addressed, message.To.Mailboxes);
        Add(addressed, message.Cc.Mailboxes);
        foreach (var header in message.Headers.Where(h => RecipientHeaders.Contains(h.Field, StringComparer.OrdinalIgnoreCase)))
        {
            if (InternetAddressList.TryParse(options, header.RawValue, out var list))
            {
                Add(deliveredTo, list.Mailboxes);
            }
        }

        return (addressed, deliveredTo);
    }

    /// <summary>The Return-Path address; "" for the null sender &lt;&gt;.</summary>
    private static string? ReturnPath(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var inner = value;
        var open = value.IndexOf('<', StringComparison.Ordinal);
        if (open >= 0)
        {
            var close = value.IndexOf('>', open + 1);
            inner = close < 0 ? value[(open + 1)..] : value[(open + 1)..close];
        }

        inner = inner.Trim();
        if (inner.Length == 0)
        {
            return "";
        }

        return inner.Length > MaxAddressLength || inner.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '<' or '>')
            ? null
            : inner.ToLowerInvariant();
    }

    private static string? FirstId(string? value) => value is null ? null : Ids(value).FirstOrDefault();

    /// <summary>References are kept whole up to <see cref="MaxReferences"/>; beyond, the root and the most recent ones, which threading uses.</summary>
    private static List<string> References(HeaderList headers)
    {
        var ids = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var header in headers.Where(h => h.Id == HeaderId.References))
        {
            foreach (var id in Ids(header.Value))
            {
                if (seen.Add(id))
                {
                    ids.Add(id);
                }
            }
        }

        return ids.Count <= MaxReferences ? ids : [ids[0], .. ids.Skip(ids.Count - (MaxReferences - 1))];
    }

    /// <summary>
    /// The message ids in a header value: each &lt;...&gt; group, trimmed and without the spaces a broken
    /// mailer put inside; when there are no angle brackets at all (some broken mailers), the bare tokens
    /// that look like id@host. Anything with control characters or nothing inside is not an id.
    /// </summary>
    private static IEnumerable<string> Ids(string value)
    {
        if (!value.Contains('<', StringComparison.Ordinal))
        {
            foreach (var token in value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                if (token.Contains('@', StringComparison.Ordinal) && IsId(token))
                {
                    yield return token;
                }
            }

            yield break;
        }

        var at = 0;
        while (at < value.Length)
        {
            var open = value.IndexOf('<', at);
            if (open < 0)
            {
                yield break;
            }

            var close = value.IndexOf('>', open + 1);
            if (close < 0)
            {
                yield break;
            }

            // "<<id@host>>" and "<abc def@host>" (broken mailers) are the ids they mean: dropped, a reply citing them never threaded.
            var id = value[(open + 1)..close].Trim().TrimStart('<');
            if (id.AsSpan().ContainsAny(IdSpaces))
            {
                id = string.Concat(id.Split(IdSpaceChars, StringSplitOptions.RemoveEmptyEntries));
            }

            if (IsId(id))
            {
                yield return id;
            }

            at = close + 1;
        }
    }

    private static readonly char[] IdSpaceChars = [' ', '\t', '\r', '\n'];

    private static readonly System.Buffers.SearchValues<char> IdSpaces = System.Buffers.SearchValues.Create(IdSpaceChars);

    private static bool IsId(string id) =>
        id.Length is > 0 and <= MaxIdLength
        && !id.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c) || c is '<' or '>' or '"' or ',');

    /// <summary>
    /// The streaming first pass: counts what <see cref="MimeParser"/> would build and stops at the
    /// first limit crossed, before any tree exists. Nesting is counted per multipart and per
    /// attached message.
    /// </summary>
    private sealed class StructureGuard(ParserOptions options, Stream stream, EmailParserLimits limits)
        : MimeReader(options, stream, MimeFormat.Entity)
    {
        private int depth;
        private int parts;
        private int headers;

        protected override void OnHeaderRead(Header header, int beginLineNumber, CancellationToken cancellationToken)
        {
            if (++headers > limits.MaxHeaders)
            {
                throw new UnparseableEmailException($"more than {limits.MaxHeaders} header fields");
            }
        }

        protected override void OnMimePartBegin(ContentType contentType, long beginOffset, int beginLineNumber, CancellationToken cancellationToken) => Count();

        protected override void OnMultipartBegin(ContentType contentType, long beginOffset, int beginLineNumber, CancellationToken cancellationToken)
        {
            if (string.IsNullOrEmpty(contentType.Boundary))
            {
                // MimeKit would read it as an empty multipart and the body would silently vanish; a person should look at it.
                throw new UnparseableEmailException("a multipart without a boundary parameter");
            }

            Count();
            Enter();
        }

        protected override void OnMultipartEnd(ContentType contentType, long beginOffset, int beginLineNumber, long headersEndOffset, long endOffset, int lines, CancellationToken cancellationToken) => depth--;

        protected override void OnMessagePartBegin(ContentType contentType, long beginOffset, int beginLineNumber, CancellationToken cancellationToken)
        {
            Count();
            Enter();
        }

        protected override void OnMessagePartEnd(ContentType contentType, long beginOffset, int beginLineNumber, long headersEndOffset, long endOffset, int lines, CancellationToken cancellationToken) => depth--;

        private void Count()
        {
            if (++parts > limits.MaxParts)
            {
                throw new UnparseableEmailException($"more than {limits.MaxParts} MIME parts");
            }
        }

        private void Enter()
        {
            if (++depth > limits.MaxMimeDepth)
            {
                throw new UnparseableEmailException($"MIME nesting deeper than {limits.MaxMimeDepth} levels");
            }
        }
    }

    /// <summary>
    /// Finds the bodies and the attachments. The first text/plain and the first text/html that are
    /// not attachments are the bodies, continued by further inline parts of their kind in the same
    /// multipart/mixed (text, a picture, more text) up to the body limit; other inline text is kept
    /// as an attachment rather than dropped; alternatives of a body already found are skipped.
    /// Attached messages become .eml attachments. A mail with no body of its own shows, as mail clients do, its
    /// first inline text part that names a file (old clients name every part), else the message it forwards.
    /// </summary>
    /// <param name="textCharset">The charset the mail declares for its text, which its parts' raw 8-bit headers are written in too.</param>
    private sealed partial class BodyWalk(EmailParserLimits limits, string? textCharset)
    {
        private long attachmentBytes;

        public string? Text { get; private set; }

        public string? Html { get; private set; }

        public string? DeliveryStatus { get; private set; }

        public bool IsReadReceipt { get; private set; }

        public List<ParsedAttachment> Attachments { get; } = [];

        /// <summary>
        /// Set when the text body and the HTML body are side by side in a multipart/mixed, neither inside a multipart/alternative:
        /// two pieces of the message, not two renderings of it. True when the HTML came first.
        /// </summary>
        public bool? HtmlFirstBeside => textBeside && htmlBeside is { } htmlFirst ? htmlFirst : null;

        private bool textBeside;

        private bool? htmlBeside;

        private int parts;

        /// <summary>What the agent is told about parts that are neither body nor file (a piece of a split mail, a file given by reference).</summary>
        public List<string> Notes { get; } = [];

        public void Walk(MimeEntity? root)
        {
            var pending = new Stack<(MimeEntity Entity, bool InAlternative, bool InReport, Multipart? Parent)>();
            if (root is not null)
            {
                pending.Push((root, false, false, null));
            }

            Multipart? htmlParent = null;
            Multipart? textParent = null;

            // Each multipart/alternative's own parent: a mixed that holds an alternative and plain text beside it (a gateway's
            // banner before it, a list's footer after it) reads as one text, as a mail client shows it.
            Dictionary<Multipart, Multipart?> alternativeParents = [];
            Multipart? textAlternative = null;
            Multipart? MixedOwner(Multipart? parent) =>
                parent is not null && parent.ContentType.IsMimeType("multipart", "alternative") && alternativeParents.TryGetValue(parent, out var owner) ? owner : parent;

            // Joined once at the end: appending part by part would copy the body again for each of up to MaxParts parts.
            List<string> textTail = [];
            List<string> htmlTail = [];
            var textLength = 0L;

            while (pending.Count > 0)
            {
                var (entity, inAlternative, inReport, parent) = pending.Pop();
                CountPart();

                switch (entity)
                {
                    case Multipart { Count: 0 } empty when !string.IsNullOrWhiteSpace(empty.Preamble):
                        // Its boundary never appears, so everything sits in the preamble: the body would silently vanish.
                        throw new UnparseableEmailException("a multipart whose boundary never appears in its body");
                    case Multipart multipart:
                        var alternative = inAlternative || multipart.ContentType.IsMimeType("multipart", "alternative");
                        var report = inReport || multipart.ContentType.IsMimeType("multipart", "report");

                        // A signed body in a multipart/mixed belongs to that mixed, so the footer a mailing list adds after
                        // the signed part continues the body instead of becoming a file (RFC 1847 parts are the body and its signature).
                        var owner = multipart.ContentType.IsMimeType("multipart", "signed") && parent is not null ? parent : multipart;
                        sawEncrypted |= IsEncrypted(multipart.ContentType);
                        if (multipart.ContentType.IsMimeType("multipart", "alternative"))
                        {
                            alternativeParents[multipart] = parent;
                        }

                        for (var i = multipart.Count - 1; i >= 0; i--)
                        {
                            if (!IsSecurityPart(multipart, i))
                            {
                                pending.Push((multipart[i], alternative, report, owner));
                            }
                        }

                        break;
                    case MimeEntity external when external.ContentType.IsMimeType("message", "external-body"):
                        // RFC 2046 5.2.3: a file given by reference. Never fetched (it is a stranger's URL); the agent sees where it is.
                        var reference = external.ContentType.Parameters["url"] ?? external.ContentType.Parameters["name"];
                        Notes.Add(reference is { Length: > 0 }
                            ? $"A file is given by reference, not attached (not fetched): {MailText.Line(reference, 500)}"
                            : "A file is given by reference, not attached.");
                        break;
                    case MessagePart attached:
                        forwarded ??= attached;
                        AddMessage(attached);
                        break;
                    case MimePart encoded when IsMessageType(encoded.ContentType) && MessageInside(encoded) is { } attached:
                        // MimeKit reads a message/rfc822 sent base64- or quoted-printable-encoded (some Exchange paths) as a
                        // file; decoded, it is the forwarded message it is, and the body of a mail that only forwards it.
                        forwarded ??= attached;
                        AddMessage(attached);
                        break;
                    case MimePart signed when IsPkcs7Mime(signed.ContentType) && SignedContent(signed) is { } content:
                        // Opaque-signed S/MIME (Outlook, banks, public offices) carries the mail inside the signature: it is
                        // signed, not encrypted, so it reads without any key. Not verified: nothing here claims it was.
                        pending.Push((content, inAlternative, inReport, parent));
                        break;
                    case MimePart tnefFile when tnefFile is not MimeKit.Tnef.TnefPart && IsWinmailDat(tnefFile):
                        // A relay that relabels winmail.dat application/octet-stream leaves it TNEF all the same.
                        AddTnef(new MimeKit.Tnef.TnefPart { Content = tnefFile.Content, FileName = tnefFile.FileName });
                        break;
                    case MimePart part when inReport && IsDispositionNotification(part):
                        IsReadReceipt = true;
                        break;
                    case MimePart part when inReport && DeliveryStatus is null && IsDeliveryStatus(part):
                        DeliveryStatus = MailText.Body(Encoding.UTF8.GetString(Decode(part)), MaxDeliveryStatusLength);
                        break;
                    case MimePart part when part is not TextPart && Text is null && !part.IsAttachment && part.FileName is null && HasUnreadableContentType(part):
                        // RFC 2045 5.2: a Content-Type that does not parse means text/plain (MimeKit makes it an octet stream).
                        Text = TextOfBytes(Decode(part));
                        break;
                    case TextPart textPart when IsBodyCandidate(textPart) && textPart.IsPlain && Text is null:
                        Text = TextOf(textPart);
                        textParent = MixedOwner(parent);
                        textAlternative = inAlternative ? parent : null;
                        textLength = Text.Length;
                        textBeside = !inAlternative && IsMixed(parent);
                        break;
                    case TextPart textPart when IsBodyCandidate(textPart) && textPart.IsPlain && textParent is not null && textParent.ContentType.IsMimeType("multipart", "mixed")
                        && (inAlternative ? parent != textAlternative && MixedOwner(parent) == textParent && textAlternative is null : parent == textParent):
                        // Apple Mail and phones send text, a picture, more text as plain parts around the picture: all of it is the body,
                        // up to the body limit (beyond it the text would only be cut away again). So is the text of an alternative
                        // after a banner part ("CAUTION: external sender"), and a list's footer after the alternative.
                        textAlternative = inAlternative ? parent : textAlternative;
                        if (textLength < limits.MaxTextChars)
                        {
                            var more = TextOf(textPart);
                            textTail.Add(more);
                            textLength += more.Length;
                        }

                        break;
                    case TextPart textPart when IsBodyCandidate(textPart) && textPart.IsHtml && Html is null:
                        Html = TextOf(textPart);
                        htmlParent = parent;
                        htmlBeside = !inAlternative && IsMixed(parent) ? Text is null : null;
                        break;
                    case TextPart textPart when IsBodyCandidate(textPart) && textPart.IsHtml && parent is not null && parent == htmlParent
                        && parent.ContentType.IsMimeType("multipart", "mixed"):
                        // Apple Mail writes text, a picture, more text as HTML parts around the picture in one multipart/mixed: all of it is the body.
                        htmlTail.Add(TextOf(textPart));
                        break;
                    case TextPart textPart when IsBodyCandidate(textPart) && (textPart.IsPlain || textPart.IsHtml) && inAlternative:
                        // Another rendering of a body already taken.
                        break;
                    case TextPart textPart when IsBodyCandidate(textPart) && textPart.IsEnriched && Text is null:
                        // RFC 1896 text/enriched (old Eudora, Emacs): its text without the formatting, as the body.
                        Text = EnrichedText.ToPlainText(TextOf(textPart));
                        textParent = parent;
                        textLength = Text.Length;
                        break;
                    case TextPart textPart when IsBodyCandidate(textPart) && inAlternative && !textPart.ContentType.IsMimeType("text", "calendar"):
                        // Renderings for other readers (Gmail's AMP text/x-amp-html, Apple Watch's text/watch-html) beside the
                        // body: neither body nor a file the customer attached. A calendar invitation's text/calendar is kept.
                        break;
                    case MimeKit.Tnef.TnefPart tnef:
                        AddTnef(tnef);
                        break;
                    case MessagePartial partial:
                        // RFC 2046 5.2.2: one piece of a mail the sender's program split up; the pieces arrive as separate
                        // mails and are not joined here, so the agent is told what this one is, and it is kept as it came.
                        Notes.Add($"This mail is part {partial.Number?.ToString(CultureInfo.InvariantCulture) ?? "?"} of {partial.Total?.ToString(CultureInfo.InvariantCulture) ?? "several"} "
                            + "of a message the sender's mail program split up; the part is attached as it came. Ask the sender to send it again in one piece.");
                        AddPart(partial);
                        break;
                    case TextPart textPart when namedText is null && textPart.FileName is not null && !textPart.IsAttachment && textPart.ContentDisposition is null
                        && (textPart.IsPlain || textPart.IsHtml):
                        namedText = (textPart, AddPart(textPart));
                        break;
                    case MimePart part:
                        sawEncrypted |= IsPkcs7Mime(part.ContentType) && IsEncrypted(part.ContentType);
                        AddPart(part);
                        break;
                    default:
                        break;
                }
            }

            if (textTail.Count > 0)
            {
                Text = string.Join("\n", [Text, .. textTail]);
            }

            TakeUuencodedFiles();
            ReadInlinePgp();

            if (htmlTail.Count > 0)
            {
                Html = string.Concat([Html, .. htmlTail]);
            }

            if (string.IsNullOrWhiteSpace(Text) && Html is not null && !HtmlStrip.HasVisibleText(Html))
            {
                // An HTML body that shows nothing (Outlook's skeleton beside an empty text part when it forwards a mail as an
                // attachment) is no body: the fallbacks below give the mail one, as they did when the part was missing (probe round 19).
                Html = null;
            }

            if (string.IsNullOrWhiteSpace(Text) && string.IsNullOrWhiteSpace(Html))
            {
                TakeBodyFromNamedText();
            }

            if (string.IsNullOrWhiteSpace(Text) && string.IsNullOrWhiteSpace(Html) && forwarded?.Message is { } inner)
            {
                TakeBodyFromForwarded(inner);
            }

            if (string.IsNullOrWhiteSpace(Text) && string.IsNullOrWhiteSpace(Html) && calendarPart is not null)
            {
                // Outlook's "Canceled:" and "Accepted:" mails are a calendar part alone: what it says is the message. Its
                // charset is read as a text body's is: Notes labels its calendars ISO-8859-1, and UTF-8 made each umlaut U+FFFD.
                Text = CalendarSummary.Of(calendarPart is TextPart calendarText ? DecodedTextOf(calendarText) : TextOfBytes(Decode(calendarPart)));
            }

            if (string.IsNullOrWhiteSpace(Text) && string.IsNullOrWhiteSpace(Html) && root is not null && IsEncrypted(root.ContentType))
            {
                // Otherwise the agent sees an empty message and a file that says "Version: 1".
                Text = EncryptedNotice;
            }
            else if (sawEncrypted)
            {
                // Encrypted content under a gateway's banner or over a list's footer: the banner is not the message (probe round 19).
                Notes.Add(EncryptedNotice);
            }
        }

        /// <summary>
        /// Files uuencoded into a plain-text body ("begin 644 name" … "end", old Unix mailers, Pegasus, Usenet gateways):
        /// each becomes an attachment and leaves the text, which otherwise showed the agent lines of line noise. A block
        /// that does not decode cleanly to its "end" stays text.
        /// </summary>
        private void TakeUuencodedFiles()
        {
            if (Text is null || !Text.Contains("begin ", StringComparison.Ordinal))
            {
                return;
            }

            var lines = Text.Split('\n');
            var kept = new List<string>(lines.Length);
            for (var i = 0; i < lines.Length; i++)
            {
                if (UuencodeBegin().Match(lines[i].TrimEnd('\r')) is { Success: true } begin && Uudecode(lines, i + 1) is { } file)
                {
                    var name = begin.Groups[1].Value.Trim();
                    var type = ContentTypeOf(ContentType.Parse(MimeTypes.GetMimeType(name)));
                    Add(new ParsedAttachment(SafeFileName.From(name, $"attachment-{Attachments.Count + 1}.bin"), type, file.Bytes, null, false));
                    i = file.EndLine;
                    continue;
                }

                kept.Add(lines[i]);
            }

            Text = kept.Count == lines.Length ? Text : string.Join('\n', kept);
        }

        /// <summary>
        /// Inline PGP (a text body that is one armoured block): a clear-signed text is shown without its "BEGIN PGP SIGNED
        /// MESSAGE" header and signature armour, its dash-escaping undone (RFC 4880 7.1); an encrypted one gets the
        /// encrypted notice. Only a body that starts so is looked at, so other mail pays one comparison.
        /// </summary>
        private void ReadInlinePgp()
        {
            if (Text is null || !Text.AsSpan().TrimStart().StartsWith("-----BEGIN PGP ", StringComparison.Ordinal))
            {
                return;
            }

            var lines = Text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
            var first = Array.FindIndex(lines, l => l.Trim().Length > 0);
            var header = lines[first].Trim();
            if (header == "-----BEGIN PGP MESSAGE-----")
            {
                Notes.Add("This mail is encrypted (inline OpenPGP) and cannot be read here; ask the sender to write without encryption.");
                return;
            }

            if (header != "-----BEGIN PGP SIGNED MESSAGE-----")
            {
                return;
            }

            // Armour headers ("Hash: SHA512") up to the first blank line, then the text up to the signature.
            var start = first + 1;
            while (start < lines.Length && lines[start].Trim().Length > 0)
            {
                start++;
            }

            var signature = Array.FindIndex(lines, start, l => l.Trim() == "-----BEGIN PGP SIGNATURE-----");
            var end = signature < 0 ? -1 : Array.FindIndex(lines, signature, l => l.Trim() == "-----END PGP SIGNATURE-----");
            if (end < 0)
            {
                return;
            }

            var kept = lines[(start + 1)..signature].Select(l => l.StartsWith("- ", StringComparison.Ordinal) ? l[2..] : l)
                .Concat(lines[(end + 1)..]);
            Text = string.Join('\n', kept).Trim('\n');
        }

        [System.Text.RegularExpressions.GeneratedRegex(@"^begin [0-7]{3,4} (\S.{0,250})$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
        private static partial System.Text.RegularExpressions.Regex UuencodeBegin();

        /// <summary>The bytes of the uuencoded lines from <paramref name="start"/> up to the "end" line; null when a line is not uuencode or no "end" comes.</summary>
        private static (byte[] Bytes, int EndLine)? Uudecode(string[] lines, int start)
        {
            using var bytes = new MemoryStream();
            for (var i = start; i < lines.Length; i++)
            {
                var line = lines[i].TrimEnd('\r');
                if (line == "end")
                {
                    return (bytes.ToArray(), i);
                }

                if (line.Length == 0 || line.Any(c => c is < ' ' or > '`'))
                {
                    return null;
                }

                // The first character counts the line's bytes; then each four characters carry three (six bits each, offset by 32).
                var count = (line[0] - ' ') & 63;
                if (line.Length - 1 < (count + 2) / 3 * 4 - 2)
                {
                    return null;
                }

                int Six(int at) => at < line.Length ? (line[at] - ' ') & 63 : 0;
                for (var at = 1; count > 0; at += 4)
                {
                    var (a, b, c, d) = (Six(at), Six(at + 1), Six(at + 2), Six(at + 3));
                    Span<byte> three = [(byte)((a << 2) | (b >> 4)), (byte)((b << 4) | (c >> 2)), (byte)((c << 6) | d)];
                    bytes.Write(three[..Math.Min(3, count)]);
                    count -= 3;
                }
            }

            return null;
        }

        /// <summary>MIME inside a part (a signed body, an encoded message) is read at most this many levels deep.</summary>
        private int unwrapped;

        /// <summary>
        /// The MIME held in <paramref name="content"/>, read under the mail's own limits (the streaming count first, as for
        /// the mail); null when it does not read or goes past them, and the part it came in stays a file as it came.
        /// </summary>
        private MimeEntity? Inside(byte[] content, bool message)
        {
            if (content.Length == 0 || ++unwrapped > limits.MaxMimeDepth)
            {
                return null;
            }

            var options = Options(limits);
            try
            {
                using (var scan = new MemoryStream(content, writable: false))
                {
                    var guard = new StructureGuard(options, scan, limits);
                    if (message)
                    {
                        guard.ReadMessage();
                    }
                    else
                    {
                        guard.ReadEntity();
                    }
                }

                using var stream = new MemoryStream(content, writable: false);
                var parser = new MimeParser(options, stream, MimeFormat.Entity);
                return message ? new MessagePart { Message = parser.ParseMessage() } : parser.ParseEntity();
            }
            catch (Exception e) when (e is UnparseableEmailException or FormatException or ParseException or ArgumentException or IOException)
            {
                return null;
            }
        }

        /// <summary>
        /// A signature (the second part of multipart/signed, of the type its protocol names) or PGP/MIME's "Version: 1"
        /// control part: machinery for the mail program, not a file the customer sent, and not listed as one (probe round 19).
        /// </summary>
        private static bool IsSecurityPart(Multipart multipart, int index)
        {
            var type = multipart.ContentType;
            var part = multipart[index].ContentType;
            if (index == 1 && type.IsMimeType("multipart", "signed"))
            {
                return (type.Parameters["protocol"] is { } protocol && string.Equals(part.MimeType, protocol.Trim(), StringComparison.OrdinalIgnoreCase))
                    || part.IsMimeType("application", "pgp-signature") || part.IsMimeType("application", "pkcs7-signature") || part.IsMimeType("application", "x-pkcs7-signature");
            }

            return index == 0 && type.IsMimeType("multipart", "encrypted") && part.IsMimeType("application", "pgp-encrypted");
        }

        private static bool IsMessageType(ContentType type) => type.IsMimeType("message", "rfc822") || type.IsMimeType("message", "global");

        /// <summary>An encoded message/rfc822 part decoded into the message it carries, named and identified as the part was.</summary>
        private MessagePart? MessageInside(MimePart part)
        {
            if (Inside(Decode(part), message: true) is not MessagePart attached || attached.Message?.Headers.Count is null or 0)
            {
                return null;
            }

            attached.ContentDisposition = part.ContentDisposition;
            attached.ContentId = part.ContentId;
            if (part.ContentType.Name is { } name)
            {
                attached.ContentType.Name = name;
            }

            return attached;
        }

        private static bool IsPkcs7Mime(ContentType type) =>
            type.IsMimeType("application", "pkcs7-mime") || type.IsMimeType("application", "x-pkcs7-mime");

        /// <summary>
        /// The content of S/MIME signed-data (RFC 8551 3.5.2), read whatever its smime-type says (some clients leave it
        /// out); null for enveloped (encrypted) or compressed data, or bytes that are no CMS at all.
        /// </summary>
        private MimeEntity? SignedContent(MimePart part)
        {
            byte[]? content = null;
            try
            {
                if (new Org.BouncyCastle.Cms.CmsSignedData(Decode(part)).SignedContent is { } signed)
                {
                    using var written = new MemoryStream();
                    signed.Write(written);
                    content = written.ToArray();
                }
            }
            catch (Exception)
            {
                // Hostile bytes: BouncyCastle signals malformed ASN.1 with many exception types, and any of them means "not signed-data".
                return null;
            }

            return content is null ? null : Inside(content, message: false);
        }

        private static bool IsWinmailDat(MimePart part) =>
            part.FileName is { } name && (name.Equals("winmail.dat", StringComparison.OrdinalIgnoreCase) || name.Equals("win.dat", StringComparison.OrdinalIgnoreCase));

        public const string EncryptedNotice = "This mail is encrypted (OpenPGP or S/MIME) and cannot be shown here. Its encrypted parts are attached; ask the sender to write without encryption.";

        private static bool IsEncrypted(ContentType type) =>
            type.IsMimeType("multipart", "encrypted")
            || ((type.IsMimeType("application", "pkcs7-mime") || type.IsMimeType("application", "x-pkcs7-mime"))
                && (type.Parameters["smime-type"] ?? "enveloped-data").Contains("enveloped", StringComparison.OrdinalIgnoreCase));

        /// <summary>A text part without Content-Disposition that names a file (XEmacs VM, old Eudora): inline, so the body, not also a file.</summary>
        private (TextPart Part, ParsedAttachment Attachment)? namedText;

        /// <summary>Whether an encrypted part (PGP/MIME, S/MIME enveloped-data) was met anywhere in the mail.</summary>
        private bool sawEncrypted;

        /// <summary>The first attached message, whose text is the body of a mail that only forwards it.</summary>
        private MessagePart? forwarded;

        /// <summary>The first calendar part taken as a file, whose summary is the body of a mail that has no other.</summary>
        private MimePart? calendarPart;

        private void TakeBodyFromNamedText()
        {
            if (namedText is not { } named)
            {
                return;
            }

            var (part, attachment) = named;
            if (Attachments.Remove(attachment))
            {
                attachmentBytes -= attachment.Content.Length;
            }

            if (part.IsHtml)
            {
                Html = TextOf(part);
            }
            else
            {
                Text = TextOf(part);
            }
        }

        /// <summary>
        /// A mail that is all forwarded message (GroupWise forwards as a bare message/rfc822) reads as its forwarded
        /// text under the forwarded headers, as Gmail writes a forward; the message stays attached as it came.
        /// </summary>
        private void TakeBodyFromForwarded(MimeMessage inner)
        {
            var walk = new BodyWalk(limits, TextCharset(inner));
            try
            {
                walk.Walk(inner.Body);
            }
            catch (UnparseableEmailException)
            {
                // The forwarded message is attached as it came; an unreadable one leaves the body empty, as before it was looked into.
                return;
            }

            string?[] lines =
            [
                "---------- Forwarded message ----------",
                Labelled("From", inner.From.ToString()),
                Labelled("Date", inner.Headers[HeaderId.Date]),
                Labelled("Subject", inner.Subject),
                Labelled("To", inner.To.ToString()),
            ];
            var heading = string.Join("\n", lines.Where(line => line is not null));
            if (!string.IsNullOrWhiteSpace(walk.Text) || walk.Html is null)
            {
                Text = $"{heading}\n\n{walk.Text}";
            }

            if (walk.Html is not null)
            {
                Html = $"<p>{System.Net.WebUtility.HtmlEncode(heading).Replace("\n", "<br>", StringComparison.Ordinal)}</p>{walk.Html}";

                // The forwarded message's own pictures (Outlook's screenshot of the error, by cid:) are shown with its text;
                // left inside the attached message, the frame showed broken images and the agent had to open the .eml.
                foreach (var picture in walk.Attachments.Where(a => a.ContentId is not null && a.ContentType.StartsWith("image/", StringComparison.Ordinal)
                             && walk.Html.Contains(a.ContentId, StringComparison.OrdinalIgnoreCase)))
                {
                    Add(picture);
                }
            }

            static string? Labelled(string label, string? value) =>
                MailText.Line(value, MaxHeaderValueLength) is { Length: > 0 } line ? $"{label}: {line}" : null;
        }

        /// <summary>The part's text; format=flowed plain text (RFC 3676) unwrapped into the lines its writer typed.</summary>
        private static string TextOf(TextPart part)
        {
            var text = DecodedTextOf(part);
            return part.IsPlain && part.IsFlowed
                ? Unflow(text, string.Equals(part.ContentType.Parameters["delsp"], "yes", StringComparison.OrdinalIgnoreCase))
                : text;
        }

        /// <summary>
        /// RFC 3676: a line ending in a space continues on the next line of the same quote depth (with delsp=yes
        /// that space goes too); one leading space is stuffing; "-- " (the signature separator) never flows.
        /// Written here because MimeKit's converter joins the signature separator to the name under it.
        /// </summary>
        private static string Unflow(string text, bool deleteSpace)
        {
            var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
            var output = new StringBuilder(text.Length);
            var paragraph = new StringBuilder();
            int? paragraphDepth = null;
            void Flush()
            {
                if (paragraphDepth is { } depth)
                {
                    output.Append('>', depth).Append(depth > 0 ? " " : "").Append(paragraph).Append('\n');
                    paragraph.Clear();
                    paragraphDepth = null;
                }
            }

            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                if (i == lines.Length - 1 && line.Length == 0)
                {
                    break; // the text's own last line break
                }

                var depth = 0;
                while (depth < line.Length && line[depth] == '>')
                {
                    depth++;
                }

                var content = line[depth..];
                content = content.StartsWith(' ') ? content[1..] : content;
                var flowed = content.EndsWith(' ') && content != "-- ";
                if (paragraphDepth is { } current && current != depth)
                {
                    Flush();
                }

                paragraphDepth = depth;
                paragraph.Append(flowed && deleteSpace ? content[..^1] : content);
                if (!flowed)
                {
                    Flush();
                }
            }

            Flush();
            return output.ToString();
        }

        /// <summary>
        /// The declared charset; with none (or us-ascii), UTF-8 when the bytes are UTF-8, else windows-1252; an
        /// unknown charset takes MimeKit's fallbacks, so it never throws. UTF-7 is decoded here because .NET no
        /// longer resolves it by name: left undecoded, "+ADw-script+AD4-" would pass the sanitizer as text and
        /// become markup for any reader that still honours UTF-7.
        /// </summary>
        private static string DecodedTextOf(TextPart part)
        {
            // Decoded once for every reading below; decoding also mends the part's padded soft breaks, which MimeKit's
            // GetText at the end then reads too.
            var bytes = Decode(part);
            if (bytes.Length >= 2 && bytes[0] is 0xFE or 0xFF && UnicodeByByteOrderMark(bytes) is { } unicode)
            {
                // RFC 2781 4.3: the byte-order mark decides, whatever the label says (JavaMail's "UTF-16" is big-endian with FE FF;
                // .NET's utf-16 is little-endian and ignores it), probe round 19.
                return unicode.GetString(bytes, unicode.Preamble.Length, bytes.Length - unicode.Preamble.Length);
            }

            var charset = part.ContentType.Charset?.Trim();
            if (string.Equals(charset, "utf-7", StringComparison.OrdinalIgnoreCase)
                || string.Equals(charset, "unicode-1-1-utf-7", StringComparison.OrdinalIgnoreCase))
            {
#pragma warning disable SYSLIB0001 // UTF-7 is obsolete for writing; reading what was sent in it is the point here.
                return new UTF7Encoding().GetString(bytes);
#pragma warning restore SYSLIB0001
            }

            if (string.IsNullOrEmpty(charset) && part.IsHtml && !System.Text.Unicode.Utf8.IsValid(bytes) && MetaCharset(bytes) is { } declaredInHtml)
            {
                // HTML mail that names its charset only in a <meta> (a web mailer's Cyrillic or Greek page): read as the page says.
                return WithoutByteOrderMark(declaredInHtml.GetString(bytes));
            }

            // UTF-8 too: text labelled utf-8 whose bytes are not (windows-1252 from an old client or a careless
            // script) read as windows-1252 rather than as a row of replacement characters.
            if (string.IsNullOrEmpty(charset) || IsAscii(charset) || IsUtf8(charset))
            {
                // Clients also write us-ascii on 8-bit text they never labelled. MimeKit would take Latin-1, where a curly
                // quote or the euro sign becomes an invisible control character, or turn every 8-bit byte of "us-ascii" into '?'.
                return TextOfBytes(bytes);
            }

            if (!System.Text.Ascii.IsValid(bytes) && System.Text.Unicode.Utf8.IsValid(bytes)
                && (WesternSingleByte.Contains(charset) || !DecodesWhole(bytes, charset)))
            {
                // UTF-8 under the wrong label (a script or an old gateway that names Latin-1, a client that names Big5 or GB2312):
                // read as what the bytes are. Real Latin-1 text is almost never valid UTF-8 as well (its accented letters stand
                // alone, not in UTF-8's pairs), and real Big5 or GB2312 text reads whole in its own charset and keeps it.
                return TextOfBytes(bytes);
            }

            if (MacRoman.Contains(charset))
            {
                // Older Apple Mail's names for Mac OS Roman, which MimeKit does not know (it would guess windows-1252).
                return WithoutByteOrderMark(Encoding.GetEncoding("macintosh").GetString(bytes));
            }

            // Text labelled iso-8859-1 that is really windows-1252 (Outlook's € and curly quotes) is mended in MailText,
            // with the same characters in encoded words.
            return WithoutByteOrderMark(part.GetText(out _));
        }

        /// <summary>The UTF-16 or UTF-32 encoding a byte-order mark at the start of <paramref name="bytes"/> names; null for none.</summary>
        private static Encoding? UnicodeByByteOrderMark(byte[] bytes) => bytes switch
        {
            [0xFF, 0xFE, 0, 0, ..] => new UTF32Encoding(bigEndian: false, byteOrderMark: true),
            [0xFF, 0xFE, ..] => new UnicodeEncoding(bigEndian: false, byteOrderMark: true),
            [0xFE, 0xFF, ..] => new UnicodeEncoding(bigEndian: true, byteOrderMark: true),
            _ => null,
        };

        private static readonly System.Text.RegularExpressions.Regex MetaCharsetPattern = new(
            """<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant,
            TimeSpan.FromMilliseconds(200));

        /// <summary>The charset a &lt;meta&gt; in the page's first 2 KB names (the HTML prescan's window, rounded up), when .NET knows it and it is not UTF-8 (the bytes were not).</summary>
        private static Encoding? MetaCharset(byte[] html)
        {
            var head = Encoding.Latin1.GetString(html.AsSpan(0, Math.Min(html.Length, 2048)));
            if (MetaCharsetPattern.Match(head) is not { Success: true } match || IsUtf8(match.Groups[1].Value))
            {
                return null;
            }

            try
            {
                return Encoding.GetEncoding(match.Groups[1].Value);
            }
            catch (ArgumentException)
            {
                return null;
            }
        }

        /// <summary>Whether every byte sequence is a character of <paramref name="charset"/>; true for a charset .NET does not know (MimeKit decides then).</summary>
        private static bool DecodesWhole(byte[] bytes, string charset)
        {
            try
            {
                Encoding.GetEncoding(charset, EncoderFallback.ReplacementFallback, DecoderFallback.ExceptionFallback).GetCharCount(bytes);
                return true;
            }
            catch (DecoderFallbackException)
            {
                return false;
            }
            catch (ArgumentException)
            {
                return true;
            }
        }

        /// <summary>
        /// Bytes of no known charset: UTF-8 (without its BOM) when they are UTF-8, else windows-1252. UTF-8 text with a few
        /// bytes that are not (a Latin-1 line pasted from an old file, a signature a gateway appended) is read as both,
        /// sequence by sequence: one stray byte must not turn every accented letter of the rest into two ("hÃ´tel").
        /// </summary>
        private static string TextOfBytes(ReadOnlySpan<byte> bytes)
        {
            if (bytes.StartsWith("\uFEFF"u8))
            {
                bytes = bytes[3..];
            }

            return System.Text.Unicode.Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : MostlyUtf8(bytes) ?? UnlabeledFallback.GetString(bytes);
        }

        /// <summary>UTF-8 sequences as UTF-8 and every other byte as windows-1252; null when no sequence of two or more bytes is UTF-8 (then it is not UTF-8 at all).</summary>
        private static string? MostlyUtf8(ReadOnlySpan<byte> bytes)
        {
            var text = new StringBuilder(bytes.Length);
            Span<char> chars = stackalloc char[2];
            var anyMultiByte = false;
            while (!bytes.IsEmpty)
            {
                var ascii = bytes.IndexOfAnyExceptInRange((byte)0, (byte)127);
                if (ascii != 0)
                {
                    var run = ascii < 0 ? bytes : bytes[..ascii];
                    text.Append(Encoding.ASCII.GetString(run));
                    bytes = bytes[run.Length..];
                    continue;
                }

                if (Rune.DecodeFromUtf8(bytes, out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
                {
                    anyMultiByte = true;
                    text.Append(chars[..rune.EncodeToUtf16(chars)]);
                    bytes = bytes[consumed..];
                }
                else
                {
                    text.Append(UnlabeledFallback.GetString(bytes[..1]));
                    bytes = bytes[1..];
                }
            }

            return anyMultiByte ? text.ToString() : null;
        }

        private static bool HasUnreadableContentType(MimePart part) =>
            part.Headers[HeaderId.ContentType] is { } declared && !ContentType.TryParse(ParserOptions.Default, declared, out _);

        private static string WithoutByteOrderMark(string text) => text.StartsWith('\uFEFF') ? text[1..] : text;

        internal static readonly HashSet<string> WesternSingleByte = new(StringComparer.OrdinalIgnoreCase)
        {
            "iso-8859-1", "iso_8859-1", "latin1", "l1", "iso-8859-15", "iso_8859-15", "latin-9", "windows-1252", "cp1252", "x-cp1252",
        };

        private static readonly HashSet<string> MacRoman = new(StringComparer.OrdinalIgnoreCase) { "x-mac-roman", "mac-roman", "macroman", "x-mac" };

        internal static bool IsUtf8(string charset) =>
            charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);

        internal static bool IsAscii(string charset) =>
            charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase) || charset.Equals("ascii", StringComparison.OrdinalIgnoreCase)
            || charset.Equals("ansi_x3.4-1968", StringComparison.OrdinalIgnoreCase);

        private static bool IsBodyCandidate(TextPart part) => !part.IsAttachment && part.FileName is null;

        private static bool IsDispositionNotification(MimePart part) =>
            part.ContentType.IsMimeType("message", "disposition-notification") || part.ContentType.IsMimeType("message", "global-disposition-notification");

        private static bool IsDeliveryStatus(MimePart part) =>
            part.ContentType.IsMimeType("message", "delivery-status") || part.ContentType.IsMimeType("message", "global-delivery-status");

        private ParsedAttachment AddPart(MimePart part)
        {
            var type = ContentTypeOf(part.ContentType);
            var number = Attachments.Count + 1;
            var fallback = $"attachment-{number}{(MimeTypes.TryGetExtension(type, out var extension) ? extension : ".bin")}";
            var contentId = ContentIdOf(part.ContentId);
            var inline = !part.IsAttachment
                && (contentId is not null || string.Equals(part.ContentDisposition?.Disposition, ContentDisposition.Inline, StringComparison.OrdinalIgnoreCase));
            var name = SafeFileName.From(DeclaredFileName(part), fallback);
            // A file that cannot fit whatever it decodes to is not decoded at all: a phone video is not copied into memory to be dropped.
            if (attachmentBytes + LeastDecodedLength(part) > limits.MaxAttachmentBytes)
            {
                return Drop(new ParsedAttachment(name, type, [], contentId, inline), EncodedLength(part) * 3 / 4);
            }

            if (calendarPart is null && CalendarSummary.IsCalendar(type))
            {
                calendarPart = part;
            }

            return Add(new ParsedAttachment(name, type, Decode(part), contentId, inline));
        }

        private static long EncodedLength(MimePart part) => part.Content?.Stream is { CanSeek: true } stream ? stream.Length : 0;

        /// <summary>The fewest bytes the part can decode to: base64 gives at most 3 of every 4 characters, less its line breaks.</summary>
        private static long LeastDecodedLength(MimePart part) => part.Content?.Encoding switch
        {
            ContentEncoding.Base64 => EncodedLength(part) * 70 / 100,
            ContentEncoding.QuotedPrintable => EncodedLength(part) / 3,
            ContentEncoding.UUEncode => EncodedLength(part) / 2,
            _ => EncodedLength(part) / 2,
        };

        /// <summary>
        /// A file past the mail's allowance for files (<see cref="EmailParserLimits.MaxAttachmentBytes"/>) is left out, and the
        /// message says so, naming it: the customer's words and the files that fit are taken in rather than the whole mail
        /// quarantined for one video (probe round 20). The raw mail, kept as every mail is, still holds the file.
        /// </summary>
        private ParsedAttachment Drop(ParsedAttachment attachment, long length)
        {
            var megabytes = Math.Max(0.1, Math.Round(length / (1024.0 * 1024), 1)).ToString("0.#", CultureInfo.InvariantCulture);
            var allowance = Math.Round(limits.MaxAttachmentBytes / (1024.0 * 1024), 1).ToString("0.#", CultureInfo.InvariantCulture);
            Notes.Add($"The file \"{attachment.FileName}\" (about {megabytes} MB) was too large to take in: a mail's files may come to {allowance} MB. "
                + "It is kept in the original mail for the administrator; ask the customer for another way to send it if it is needed.");
            return attachment;
        }

        /// <summary>
        /// The part's file name. Old Outlook and Internet Explorer send a Windows path in a quoted name unescaped
        /// (filename="C:\Users\bob\report.docx"), whose backslashes MIME reads as escapes, leaving "C:Usersbobreport.docx":
        /// there the file name is what follows the path's last backslash, as the sender meant (probe round 12).
        /// </summary>
        private string? DeclaredFileName(MimePart part)
        {
            var (disposition, type, headerText) = RawHeaderCharset(part) is { } charset
                ? InCharset(part, charset)
                : (part.ContentDisposition, part.ContentType, (Func<HeaderId, string?>)(id => part.Headers[id]));

            // Some mailers put filename= on Content-Type instead of name= (or on Content-Disposition); it names the file all the same.
            var name = disposition?.FileName ?? type.Name ?? type.Parameters["filename"];
            foreach (var header in new[] { HeaderId.ContentDisposition, HeaderId.ContentType })
            {
                if (headerText(header) is { } raw && WindowsPath.Match(raw) is { Success: true } path)
                {
                    var quoted = path.Groups["value"].Value;
                    var last = quoted[(quoted.LastIndexOf('\\') + 1)..];
                    if (last.Length > 0 && name == quoted.Replace("\\", "", StringComparison.Ordinal))
                    {
                        return last;
                    }
                }
            }

            return name;
        }

        /// <summary>
        /// The charset of a part's Content-Type and Content-Disposition when they carry raw 8-bit bytes that are not UTF-8 (a
        /// Chinese client's file name in GB2312): the part's own, else the one the mail declares for its text, if the bytes
        /// read whole in it. Null leaves MimeKit's reading, UTF-8 else windows-1252, which made "合同草案.pdf" "ºÏÍ¬²Ý°¸.pdf".
        /// </summary>
        private Encoding? RawHeaderCharset(MimePart part)
        {
            var raw = part.Headers.Where(h => h.Id is HeaderId.ContentType or HeaderId.ContentDisposition).Select(h => h.RawValue).ToList();
            if (!raw.Any(value => value.AsSpan().ContainsAnyInRange((byte)0x80, (byte)0xFF) && !System.Text.Unicode.Utf8.IsValid(value)))
            {
                return null;
            }

            foreach (var declared in new[] { part.ContentType.Charset, textCharset })
            {
                if (EightBitCharset(declared) is { } charset && raw.All(value => DecodesWhole(value, declared!.Trim())))
                {
                    return charset;
                }
            }

            return null;
        }

        /// <summary>The part's Content-Disposition and Content-Type, and any of its headers' text, read again with raw 8-bit bytes in <paramref name="charset"/>.</summary>
        private static (ContentDisposition? Disposition, ContentType Type, Func<HeaderId, string?> HeaderText) InCharset(MimePart part, Encoding charset)
        {
            var options = ParserOptions.Default.Clone();
            options.CharsetEncoding = charset;
            Header? Raw(HeaderId id) => part.Headers.FirstOrDefault(h => h.Id == id);
            var disposition = Raw(HeaderId.ContentDisposition) is { } d && ContentDisposition.TryParse(options, d.RawValue, out var readDisposition)
                ? readDisposition
                : part.ContentDisposition;
            var type = Raw(HeaderId.ContentType) is { } t && ContentType.TryParse(options, t.RawValue, out var readType) ? readType : part.ContentType;
            return (disposition, type, id => Raw(id) is { } header ? charset.GetString(header.RawValue).ReplaceLineEndings("").Trim() : null);
        }

        /// <summary>Every part walked counts against the limit, those inside a winmail.dat too.</summary>
        private void CountPart()
        {
            if (++parts > limits.MaxParts)
            {
                throw new UnparseableEmailException($"more than {limits.MaxParts} MIME parts");
            }
        }

        /// <summary>
        /// Outlook's rich-text mail (winmail.dat, MS-OXTNEF): its files become the mail's own attachments, and its
        /// text or HTML body is the body when the mail has none outside it. Unreadable TNEF stays one opaque file.
        /// </summary>
        private void AddTnef(MimeKit.Tnef.TnefPart tnef)
        {
            MimeMessage inner;
            try
            {
                if (!IsWhole(tnef))
                {
                    // MimeKit would still give the files it could read, a cut-off one among them as if it were whole.
                    AddPart(tnef);
                    return;
                }

                inner = tnef.ConvertToMessage();
            }
            catch (Exception e) when (e is MimeKit.Tnef.TnefException or FormatException or ArgumentException or IOException or InvalidOperationException)
            {
                AddPart(tnef);
                return;
            }

            foreach (var part in inner.BodyParts.OfType<MimePart>())
            {
                CountPart();

                switch (part)
                {
                    // Outlook often sends an empty text/plain beside winmail.dat: the TNEF body is the message then.
                    case TextPart text when IsBodyCandidate(text) && text.IsPlain:
                        Text = string.IsNullOrWhiteSpace(Text) ? TextOf(text) : Text;
                        break;
                    case TextPart text when IsBodyCandidate(text) && text.IsHtml:
                        Html = NoHtmlYet() ? TextOf(text) : Html;
                        break;
                    case TextPart text when IsBodyCandidate(text) && text.IsRichText:
                        // The rich-text rendering of a body: only worth keeping when there is no other.
                        if (string.IsNullOrWhiteSpace(Text) && NoHtmlYet())
                        {
                            AddPart(text);
                        }

                        break;
                    default:
                        // Older TNEF names a file without its type: the type its name implies, as Outlook shows it.
                        if (part.ContentType.IsMimeType("application", "octet-stream") && part.FileName is { } name)
                        {
                            var implied = ContentType.Parse(MimeTypes.GetMimeType(name));
                            (part.ContentType.MediaType, part.ContentType.MediaSubtype) = (implied.MediaType, implied.MediaSubtype);
                        }

                        AddPart(part);
                        break;
                }
            }
        }

        /// <summary>No HTML body, or one that shows nothing (judged by its text, not its markup).</summary>
        private bool NoHtmlYet() => Html is null || !HtmlStrip.HasVisibleText(Html);

        private static bool IsMixed(Multipart? parent) => parent is not null && parent.ContentType.IsMimeType("multipart", "mixed");

        /// <summary>An HTML body too large to show, kept as the file it is (<c>message.html</c>) when it fits the attachment allowance.</summary>
        public void KeepOriginalHtml(string html)
        {
            var bytes = Encoding.UTF8.GetBytes(html);
            if (attachmentBytes + bytes.Length <= limits.MaxAttachmentBytes)
            {
                Add(new ParsedAttachment(SafeFileName.From("message.html", "message.html"), "text/html", bytes, null, Inline: false));
            }
        }

        /// <summary>Whether the TNEF stream reads to its end with every attribute's length and checksum right.</summary>
        private static bool IsWhole(MimeKit.Tnef.TnefPart tnef)
        {
            if (tnef.Content is null)
            {
                return false;
            }

            using var content = tnef.Content.Open();
            using var reader = new MimeKit.Tnef.TnefReader(content, 0, MimeKit.Tnef.TnefComplianceMode.Loose);
            while (reader.ReadNextAttribute())
            {
            }

            const MimeKit.Tnef.TnefComplianceStatus broken = MimeKit.Tnef.TnefComplianceStatus.StreamTruncated | MimeKit.Tnef.TnefComplianceStatus.InvalidAttributeChecksum
                | MimeKit.Tnef.TnefComplianceStatus.InvalidAttributeLength | MimeKit.Tnef.TnefComplianceStatus.InvalidTnefSignature;
            return (reader.ComplianceStatus & broken) == 0;
        }

        private static readonly FormatOptions MailLineEnds = new() { NewLineFormat = NewLineFormat.Dos };

        private void AddMessage(MessagePart attached)
        {
            using var content = new MemoryStream();
            // With the CRLF line ends mail has on the wire (the default here is the platform's LF), so the copy an agent
            // downloads is the forwarded message as sent, its DKIM signature still checkable.
            attached.Message?.WriteTo(MailLineEnds, content);
            var number = Attachments.Count + 1;

            // The name the sender gave the file, else the message's subject. A subject is a title, not a path: its
            // slashes must not be read as directories.
            var subject = MailText.Line(attached.Message?.Subject, MaxSubjectLength).Replace('/', '-').Replace('\\', '-');
            var declared = attached.ContentDisposition?.FileName ?? attached.ContentType.Name;
            var name = !string.IsNullOrWhiteSpace(declared)
                ? SafeFileName.From(declared, $"message-{number}.eml")
                : SafeFileName.From(subject.Length == 0 ? null : subject + ".eml", $"message-{number}.eml");
            Add(new ParsedAttachment(name, "message/rfc822", content.ToArray(), ContentIdOf(attached.ContentId), Inline: false));
        }

        private ParsedAttachment Add(ParsedAttachment attachment)
        {
            if (attachmentBytes + attachment.Content.Length > limits.MaxAttachmentBytes)
            {
                return Drop(attachment with { Content = [] }, attachment.Content.Length);
            }

            attachmentBytes += attachment.Content.Length;

            // Gmail sends an invitation twice: as the text/calendar rendering and as invite.ics. One file, under the sender's name for it.
            if (CalendarSummary.IsCalendar(attachment.ContentType)
                && Attachments.FindIndex(a => CalendarSummary.IsCalendar(a.ContentType) && CalendarSummary.Same(a.Content, attachment.Content)) is >= 0 and var same)
            {
                attachmentBytes -= attachment.Content.Length;
                if (Attachments[same].FileName.StartsWith("attachment-", StringComparison.Ordinal))
                {
                    Attachments[same] = attachment with { ContentType = Attachments[same].ContentType };
                }

                return Attachments[same];
            }

            Attachments.Add(attachment);
            return attachment;
        }

        /// <summary>The decoded content; an unknown transfer encoding is passed through as is.</summary>
        private static byte[] Decode(MimePart part)
        {
            if (part.Content is null)
            {
                return [];
            }

            MendSoftLineBreaks(part);
            if (part is TextPart && part.Content.Encoding == ContentEncoding.Base64 && PlainTextLabelledBase64(part.Content) is { } plain)
            {
                return plain;
            }

            // Sized for what the part decodes to at most, so a large file is not grown through doubling copies.
            using var decoded = new MemoryStream((int)Math.Min(int.MaxValue / 2, part.Content.Encoding == ContentEncoding.Base64 ? (EncodedLength(part) * 3 / 4) + 4 : EncodedLength(part) + 4));
            part.Content.DecodeTo(decoded);
            return part.Content.Encoding == ContentEncoding.Base64 && Base64Leniently(part.Content, decoded.Length) is { } lenient
                ? lenient
                : decoded.ToArray();
        }

        /// <summary>
        /// RFC 2045 6.7 (3): white space after a quoted-printable soft line break's '=' (a relay that pads lines) is to be
        /// deleted; MimeKit keeps the line break then, splitting words ("floo= " + "r" became "floo" and "r" on two lines).
        /// </summary>
        private static void MendSoftLineBreaks(MimePart part)
        {
            if (part.Content is not { Encoding: ContentEncoding.QuotedPrintable, Stream: { CanSeek: true } stream })
            {
                return;
            }

            using var raw = new MemoryStream();
            stream.Position = 0;
            stream.CopyTo(raw);
            stream.Position = 0;
            var bytes = raw.GetBuffer().AsSpan(0, (int)raw.Length);
            var at = PaddedSoftBreak(bytes, 0);
            if (at < 0)
            {
                return;
            }

            var mended = new MemoryStream(bytes.Length);
            var from = 0;
            for (; at >= 0; at = PaddedSoftBreak(bytes, from))
            {
                mended.Write(bytes[from..(at + 1)]);
                from = at + 1 + bytes[(at + 1)..].IndexOfAnyExcept(" \t"u8);
            }

            mended.Write(bytes[from..]);
            mended.Position = 0;
            part.Content = new MimeContent(mended, ContentEncoding.QuotedPrintable);
        }

        /// <summary>The index of the next '=' from <paramref name="start"/> followed by spaces or tabs and then a line end; -1 when none.</summary>
        private static int PaddedSoftBreak(ReadOnlySpan<byte> bytes, int start)
        {
            for (var at = bytes[start..].IndexOf((byte)'=') is >= 0 and var i ? start + i : -1; at >= 0;
                 at = bytes[(at + 1)..].IndexOf((byte)'=') is >= 0 and var next ? at + 1 + next : -1)
            {
                var rest = bytes[(at + 1)..];
                var padding = rest.IndexOfAnyExcept(" \t"u8);
                if (padding > 0 && (rest[padding] == '\n' || (rest[padding] == '\r' && padding + 1 < rest.Length && rest[padding + 1] == '\n')))
                {
                    return at;
                }
            }

            return -1;
        }

        /// <summary>
        /// Base64 as senders write it, not only as RFC 2045 does: without its closing '=' padding (MimeKit then drops
        /// the last one or two bytes, so a file arrived cut short without a word), or in the URL-safe alphabet ('-' and
        /// '_', which it skips as noise). Whitespace and other characters are ignored, as the RFC asks of decoders; the first '=' ends the data.
        /// </summary>
        /// <returns>The bytes, when they are more than MimeKit decoded (<paramref name="strictLength"/>); else null.</returns>
        private static byte[]? Base64Leniently(IMimeContent content, long strictLength)
        {
            if (content.Stream is not { CanSeek: true } stream)
            {
                return null;
            }

            using var raw = new MemoryStream();
            stream.Position = 0;
            stream.CopyTo(raw);
            stream.Position = 0;
            var bytes = raw.GetBuffer().AsSpan(0, (int)raw.Length);
            var data = bytes.IndexOf((byte)'=') is >= 0 and var end ? bytes[..end] : bytes;
            // A base64 letter of either alphabet, as the standard one writes it; null for anything else.
            static char? Letter(byte b) => b switch
            {
                (byte)'-' => '+',
                (byte)'_' => '/',
                _ when char.IsAsciiLetterOrDigit((char)b) || b is (byte)'+' or (byte)'/' => (char)b,
                _ => null,
            };

            // The usual case: MimeKit decoded every whole byte there is, and nothing more is to be had. Counted a run of
            // letters at a time (vectorised), as every attachment of every mail is counted.
            var letters = 0L;
            for (var rest = data; !rest.IsEmpty;)
            {
                var other = rest.IndexOfAnyExcept(Base64Letters);
                letters += other < 0 ? rest.Length : other;
                rest = other < 0 ? [] : rest[(other + 1)..];
            }

            if (letters * 6 / 8 <= strictLength)
            {
                return null;
            }

            var text = new StringBuilder((int)letters + 3);
            foreach (var b in data)
            {
                if (Letter(b) is { } letter)
                {
                    text.Append(letter);
                }
            }

            // A single character left over carries no whole byte: it is dropped, as any decoder does.
            text.Length -= text.Length % 4 == 1 ? 1 : 0;
            text.Append('=', (4 - (text.Length % 4)) % 4);
            try
            {
                return Convert.FromBase64String(text.ToString());
            }
            catch (FormatException)
            {
                return null;
            }
        }

        // A quoted (file)name holding a backslash that escapes nothing MIME would need escaped: a Windows path.
        private static readonly System.Text.RegularExpressions.Regex WindowsPath = new(
            @"(?:file)?name\s*=\s*""(?<value>[^""]*\\[^""\\][^""]*)""",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

        /// <summary>
        /// Text labelled base64 that never was (a script that sets the header and writes the text as it is): its raw bytes
        /// when they hold words and punctuation no base64 has, rather than the noise decoding them gives. Three such marks
        /// decide; base64 has none at all, so a real encoding with a stray one is still decoded.
        /// </summary>
        private static byte[]? PlainTextLabelledBase64(IMimeContent content)
        {
            if (content.Stream is not { CanSeek: true } stream)
            {
                return null;
            }

            using var raw = new MemoryStream();
            stream.Position = 0;
            stream.CopyTo(raw);
            stream.Position = 0;
            var bytes = raw.GetBuffer().AsSpan(0, (int)raw.Length);
            var marks = 0;
            for (var at = 0; marks < 3 && at < bytes.Length;)
            {
                var next = bytes[at..].IndexOfAny(NeverBase64);
                if (next < 0)
                {
                    break;
                }

                // Punctuation, or a space between two characters of a line (base64 lines may only end in white space).
                var i = at + next;
                if (bytes[i] != (byte)' ' || (i > 0 && i + 1 < bytes.Length && bytes[i - 1] > (byte)' ' && bytes[i + 1] > (byte)' '))
                {
                    marks++;
                }

                at = i + 1;
            }

            return marks < 3 ? null : bytes.ToArray();
        }

        private static readonly System.Buffers.SearchValues<byte> NeverBase64 = System.Buffers.SearchValues.Create(" ,.;:!?'\"()"u8);

        // Both alphabets' letters, as Letter in Base64Leniently takes them.
        private static readonly System.Buffers.SearchValues<byte> Base64Letters =
            System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"u8);

        private static string ContentTypeOf(ContentType contentType) => WorkItems.Attachments.MediaType(contentType.MimeType);

        private static string? ContentIdOf(string? contentId)
        {
            var id = contentId?.Trim().Trim('<', '>');
            return id is null || !IsId(id) || id.Length > 250 ? null : id;
        }
    }
}
