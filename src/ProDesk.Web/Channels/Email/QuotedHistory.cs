using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Where the earlier thread a reply quotes begins in a plain-text mail: each customer reply repeats everything before
/// it, and an agent reading the item sees the thread already. The quoted tail is folded away on the item page, never
/// dropped. Only a tail is folded, only under text of the sender's own, and only when it is history: after an
/// attribution ("On … wrote:") nothing but quoted lines, an Outlook header block only in its real shape. Answers
/// written between quoted lines, or a sentence that happens to read like an attribution, stay as they are (probe round 20).
/// </summary>
public static partial class QuotedHistory
{
    /// <summary>The sender's own text, and the quoted history after it (null when none was found).</summary>
    public static (string Fresh, string? Quoted) Split(string body)
    {
        if (body.Length == 0)
        {
            return (body, null);
        }

        var lines = body.Split('\n');
        int start;
        try
        {
            start = FirstHistoryLine(lines);
        }
        catch (RegexMatchTimeoutException)
        {
            return (body, null); // shown unfolded, as a pathological page is: the item page must open whatever a mail says
        }

        if (start <= 0 || !lines[..start].Any(line => !string.IsNullOrWhiteSpace(line) && !line.TrimStart().StartsWith('>')))
        {
            return (body, null);
        }

        var offset = lines[..start].Sum(line => line.Length + 1);
        return (body[..offset].TrimEnd(), body[offset..]);
    }

    /// <summary>
    /// The same fold for a mail's sanitized HTML, when it is shown: the first element that opens the quoted history
    /// (an attribution or separator line, Outlook's From/Sent block, or a blockquote that ends the mail) and whatever
    /// follows it at its level go into a closed &lt;details&gt;. Classes such as gmail_quote are gone after sanitizing,
    /// so the history is found by what it says and where it stands. Only a tail is folded, and only under text of the
    /// sender's own; anything else is returned as it was.
    /// </summary>
    public static string FoldHtml(string sanitizedHtml)
    {
        if (sanitizedHtml.Length == 0 || sanitizedHtml.Length > MaxFoldedHtmlLength || sanitizedHtml.AsSpan().Count('<') > MaxFoldedHtmlTags)
        {
            return sanitizedHtml;
        }

        try
        {
            return Folded(sanitizedHtml) ?? sanitizedHtml;
        }
        catch (RegexMatchTimeoutException)
        {
            return sanitizedHtml; // a pathological page is shown unfolded
        }
    }

    private static string? Folded(string sanitizedHtml)
    {
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false });
        using var document = parser.ParseDocument($"<!DOCTYPE html><html><body>{sanitizedHtml}</body></html>");
        var body = document.Body!;
        // The first marker decides, but an attribution with more than a quote after it is the sender's own text: read on.
        var (start, parent, _) = body.Descendants<IElement>().Select(element => StartOfHistory(element, body)).FirstOrDefault(found => found.Marker != Marker.None);
        if (start is null || parent is null)
        {
            return null;
        }

        var details = document.CreateElement("details");
        var summary = document.CreateElement("summary");
        summary.TextContent = "Quoted text";
        details.AppendChild(summary);
        parent.InsertBefore(details, start);
        for (var node = details.NextSibling; node is not null; node = details.NextSibling)
        {
            details.AppendChild(node);
        }

        return body.InnerHtml;
    }

    /// <summary>Mails larger than this are shown as they are: folding is a convenience, not worth a second parse of a huge page.</summary>
    private const int MaxFoldedHtmlLength = 512 * 1024;

    /// <summary>Each element's text is read while looking for the marker, which costs about elements × depth: bounded here.</summary>
    private const int MaxFoldedHtmlTags = 10_000;

    /// <summary>The most text an element that is only a marker (Outlook's From/Sent/To/Cc/Subject block) carries.</summary>
    private const int MaxMarkerBlockLength = 2000;

    private static readonly HashSet<string> BlockNames = new(StringComparer.OrdinalIgnoreCase) { "div", "p", "blockquote", "table" };

    /// <summary>
    /// Where the history opened by <paramref name="element"/> starts, and the element holding it; nulls when it is not
    /// folded. The marker is None when the element opens nothing, or is an attribution with more than a quote after it.
    /// </summary>
    private static (IElement? Start, IElement? Parent, Marker Marker) StartOfHistory(IElement element, IElement body)
    {
        var marker = OpensHistory(element, body);
        if (marker == Marker.None)
        {
            return (null, null, marker);
        }

        if (marker == Marker.Attribution && !OnlyQuoteAfter(element, Outermost(element, body)))
        {
            return (null, null, Marker.None);
        }

        var start = Outermost(element, body);
        return start.Parent is not IElement parent || !HasTextBefore(start, body) || !NothingAfter(parent, body)
            ? (null, null, marker)
            : (start, parent, marker);
    }

    /// <summary>From the marker up to the outermost element it opens (Outlook nests its From/Sent paragraph in two divs).</summary>
    private static IElement Outermost(IElement marker, IElement body)
    {
        var start = marker;
        while (start is { Parent: IElement outer } && outer != body && !HasTextBefore(start, outer))
        {
            start = outer;
        }

        return start;
    }

    /// <summary>
    /// Whether what follows an attribution, up to the end of what would be folded, is a quote: inside a blockquote, or
    /// blockquotes and blank space after it at every level up to <paramref name="start"/>'s. Thunderbird's inline answers
    /// between blockquotes, or a sentence "On Monday your engineer wrote:" over the customer's own paragraphs, are not.
    /// </summary>
    private static bool OnlyQuoteAfter(IElement attribution, IElement start)
    {
        var quoted = false;
        for (var level = attribution; level is not null; level = level.ParentElement)
        {
            if (level.LocalName == "blockquote" && level != attribution)
            {
                return true; // the attribution stands inside the quote (Apple Mail): all after it there is quoted
            }

            for (var next = level.NextSibling; next is not null; next = next.NextSibling)
            {
                if (next is IElement { LocalName: "blockquote" })
                {
                    quoted = true;
                }
                else if (!string.IsNullOrWhiteSpace(next.TextContent) || (next as IElement)?.QuerySelector("img") is not null || next is IElement { LocalName: "img" })
                {
                    return false;
                }
            }

            if (level == start)
            {
                break;
            }
        }

        return quoted;
    }

    private enum Marker
    {
        None,
        Attribution,
        Other,
    }

    private static Marker OpensHistory(IElement element, IElement body)
    {
        if (!BlockNames.Contains(element.LocalName))
        {
            return Marker.None;
        }

        if (element.LocalName == "blockquote")
        {
            // A quote that ends the mail (Apple Mail, Thunderbird). An attribution line above it comes first in document
            // order, and is the start instead.
            return NothingAfter(element, body) ? Marker.Other : Marker.None;
        }

        // An element with more text than a marker block holds is a container: its own children are looked at next.
        var content = element.TextContent;
        if (content.Length > MaxMarkerBlockLength)
        {
            return Marker.None;
        }

        var text = Normalized(content);
        if (text.Length == 0)
        {
            return Marker.None;
        }

        // A separator starts its element's text (a line break in HTML is no break in the text), an attribution is all of it.
        if (SeparatorAtStart().IsMatch(text))
        {
            return Marker.Other;
        }

        if (text.Length <= MaxMarkerLength && Attribution().IsMatch(text))
        {
            return Marker.Attribution;
        }

        // Outlook's header block: "From: … Sent: …" in one paragraph or div, nothing else in it but the other fields, line
        // by line ("Shipment details: From: … To: … Date: … AWB: …" is none). An empty block inside does not make it a
        // container: Outlook on the web ends div#divRplyFwdMsg with <div>&nbsp;</div>.
        return HeaderFrom().IsMatch(text) && HeaderSentInside().IsMatch(text)
            && element.QuerySelectorAll("p, div, blockquote, table").All(inner => string.IsNullOrWhiteSpace(inner.TextContent))
            && IsHeaderBlock([.. LinesOf(element).Where(line => line.Length > 0)], 0)
                ? Marker.Other
                : Marker.None;
    }

    /// <summary>An element's text, line by line as shown: a break at each &lt;br&gt; and around each block.</summary>
    private static List<string> LinesOf(IElement element)
    {
        var lines = new List<string>();
        var line = new System.Text.StringBuilder();
        void Break()
        {
            lines.Add(Normalized(line.ToString()));
            line.Clear();
        }

        void Walk(INode node)
        {
            foreach (var child in node.ChildNodes)
            {
                if (child is IText text)
                {
                    line.Append(text.Data);
                }
                else if (child is IElement { LocalName: "br" })
                {
                    Break();
                }
                else if (child is IElement inner && BlockNames.Contains(inner.LocalName))
                {
                    Break();
                    Walk(inner);
                    Break();
                }
                else
                {
                    Walk(child);
                }
            }
        }

        Walk(element);
        Break();
        return lines;
    }

    private static string Normalized(string text) => WhiteSpace().Replace(text, " ").Trim();

    /// <summary>Whether some text comes before <paramref name="start"/> inside <paramref name="within"/>.</summary>
    private static bool HasTextBefore(IElement start, IElement within)
    {
        foreach (var node in within.Descendants())
        {
            if (node == start)
            {
                return false;
            }

            if (node is IText text && !string.IsNullOrWhiteSpace(text.Data))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether nothing but white space follows <paramref name="element"/>, at its level and every level above it, up to the end of <paramref name="body"/>.</summary>
    private static bool NothingAfter(IElement element, IElement body)
    {
        for (INode? level = element; level is not null && level != body; level = level.Parent)
        {
            for (var next = level.NextSibling; next is not null; next = next.NextSibling)
            {
                if (!string.IsNullOrWhiteSpace(next.TextContent) || next is IElement { LocalName: "img" } || (next as IElement)?.QuerySelector("img") is not null)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private const int MaxMarkerLength = 400;

    private static int FirstHistoryLine(string[] lines)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r').Trim();
            if (line.Length > MaxMarkerLength)
            {
                continue; // a paragraph, not a marker; and the patterns never see a long line
            }

            if (ForwardSeparator().IsMatch(line))
            {
                return -1; // what follows is the forwarded mail, From/Date block and all: the content, never folded
            }

            if (Separator().IsMatch(line))
            {
                return i;
            }

            // An attribution ("On … wrote:", or wrapped over two lines) opens history only when all under it is quoted: a
            // sentence "On Monday your engineer wrote:" over the customer's own words, or answers written between the
            // quoted lines, is the customer's text.
            if (Attribution().IsMatch(line))
            {
                if (OnlyQuotedFrom(lines, i + 1))
                {
                    return i;
                }

                continue;
            }

            if (i + 1 < lines.Length && line.Length > 0 && !line.EndsWith(':') && lines[i + 1].Length <= MaxMarkerLength && Attribution().IsMatch($"{line} {lines[i + 1].Trim()}"))
            {
                if (OnlyQuotedFrom(lines, i + 2))
                {
                    return i;
                }

                continue;
            }

            // Outlook's header block, under a blank line or its rule: From: then Sent: or Date: within the next lines, and no
            // line in it but Outlook's fields ("Shipment details:" over "From: … To: … Date: … AWB: …" is none).
            var ruled = i > 0 && lines[i - 1].Trim().StartsWith("____", StringComparison.Ordinal);
            if (HeaderFrom().IsMatch(line) && (ruled || i == 0 || string.IsNullOrWhiteSpace(lines[i - 1])) && IsHeaderBlock(lines, i))
            {
                return ruled ? i - 1 : i;
            }
        }

        return QuotedTail(lines);
    }

    /// <summary>Whether the lines from <paramref name="from"/> on are quoted ("&gt;"), blank lines allowed, and there is one.</summary>
    private static bool OnlyQuotedFrom(string[] lines, int from)
    {
        var quoted = false;
        for (var i = from; i < lines.Length; i++)
        {
            var line = lines[i].Trim().TrimStart('\uFEFF');
            if (line.StartsWith('>'))
            {
                quoted = true;
            }
            else if (line.Length > 0)
            {
                return false;
            }
        }

        return quoted;
    }

    /// <summary>The most lines an Outlook header block runs to, a wrapped address list included.</summary>
    private const int MaxHeaderBlockLines = 12;

    /// <summary>
    /// Whether the lines from <paramref name="from"/> (a From: line) to the next blank one are Outlook's header block: a
    /// Sent:/Date: (or, in some languages, Subject:) within the next four lines, and every line that reads "Label: …"
    /// one of Outlook's fields; a line without a label continues the one above (a long To: list wrapped).
    /// </summary>
    private static bool IsHeaderBlock(IReadOnlyList<string> lines, int from)
    {
        var block = lines.Skip(from).Select(line => line.Trim()).TakeWhile(line => line.Length > 0).Take(MaxHeaderBlockLines + 1).ToList();
        return block.Count <= MaxHeaderBlockLines
            && block.Skip(1).Take(4).Any(line => HeaderSent().IsMatch(line))
            && block.All(line => !Labelled().IsMatch(line) || HeaderField().IsMatch(line));
    }

    /// <summary>The first line of a run of "&gt;" lines (blank lines allowed) that reaches the end; -1 when the text does not end so.</summary>
    private static int QuotedTail(string[] lines)
    {
        var start = -1;
        for (var i = lines.Length - 1; i >= 0; i--)
        {
            var line = lines[i].Trim();
            if (line.StartsWith('>'))
            {
                start = i;
            }
            else if (line.Length > 0)
            {
                break;
            }
        }

        return start;
    }

    // The separators, and Lotus Notes' "-----"Name" <address> wrote: -----" over its To/From/Date block. Not a forward's
    // "---------- Forwarded message ---------" or "Message transféré": what it forwards is the new content, not history
    // the page shows already (probe round 19).
    [GeneratedRegex(@"^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Oorspronkelijk bericht|Messaggio originale|.{1,250}\s(wrote|schrieb|a\s+écrit)\s?:)\s*-{2,}$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Separator();

    // A forward's separator (Gmail, Thunderbird, Apple Mail; English, French, German, Spanish, Italian, Dutch, Portuguese).
    [GeneratedRegex(@"^-{2,}\s*(Forwarded message|Message transféré|Weitergeleitete Nachricht|Mensaje reenviado|Messaggio inoltrato|Doorgestuurd bericht|Mensagem encaminhada)\s*-{2,}$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex ForwardSeparator();

    // Gmail, Apple Mail, Thunderbird: "On Tue, 3 Jun 2025 at 09:15, Carol <c@x> wrote:" and its translations. The Russian
    // and Japanese Gmail forms have no verb, only the date, the time and "Name <address>:", and the Chinese and Russian
    // verbs have no fixed opening word: each is taken only with its own date form ("2026 г. в", "于2026年", a line that
    // opens with the date), so that a sentence ending in a colon is none, and no pattern scans a line twice over.
    [GeneratedRegex(@"^(On\s.{1,250}\swrote|Am\s.{1,250}\sschrieb\s.{0,250}|Le\s.{1,250}\sa\s+écrit\s?|El\s.{1,250}\sescribió|Op\s.{1,250}\sschreef\s.{0,250}|Il\s.{1,250}\sha\s+scritto|Em\s.{1,250}\sescreveu"
        + @"|.{0,40}\d{4}\s?г\.,?\s(в\s)?\d{1,2}:\d{2},?\s.{1,250}<[^<>\s]+@[^<>\s]+>|\d{1,2}\.\d{1,2}\.\d{2,4}\s\d{1,2}:\d{2}.{0,250}\sпишет"
        + @"|\d{4}年\d{1,2}月\d{1,2}日.{0,20}\d{1,2}:\d{2}\s.{1,250}<[^<>\s]+@[^<>\s]+>|.{1,250}于\s?\d{4}年.{1,60}写道|在\s?\d{4}.{1,250}写道)\s?[:：]$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Attribution();

    // Outlook's field names in English, German, French, Spanish and Portuguese, Dutch, Italian, Polish, Swedish, Russian,
    // Japanese and Chinese; a CJK client writes the full-width colon, with or without a space after it.
    [GeneratedRegex(@"^\*?(From|Von|De|Van|Da|Od|Från|От|差出人|发件人)\s?(:\*?\s|：\*?\s?)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex HeaderFrom();

    // The field that tells a header block from a line that begins "From:": when it was sent, or (in the languages added in
    // probe round 18, whose clients may leave the date out of a short block) its subject.
    [GeneratedRegex(@"^\*?(Sent|Date|Gesendet|Datum|Envoyé|Enviad[oa](\s(el|em))?|Verzonden|Inviato|Wysłano|Skickat|Отправлено|送信日時|发送时间|Temat|Ämne|Тема|件名|主题)\s?(:\*?\s|：\*?\s?)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex HeaderSent();

    // A <br> between the fields leaves no space in the element's text: "…acme.test>Sent: Tuesday". CJK names run into the
    // field name with no break at all, so those are not asked to start a word.
    [GeneratedRegex(@"((?<!\p{L})(Sent|Date|Gesendet|Datum|Envoyé|Enviad[oa](\s(el|em))?|Verzonden|Inviato|Wysłano|Skickat|Отправлено|Temat|Ämne|Тема)|送信日時|发送时间|件名|主题)\s?(:\s|：\s?)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex HeaderSentInside();

    // Any of Outlook's fields in its header block, in the languages above: From and Sent/Date, To, Cc, Bcc, Subject,
    // Importance, Attachments, Reply-To.
    [GeneratedRegex(@"^\*?(From|Von|De|Van|Da|Od|Från|От|差出人|发件人|Sent|Date|Gesendet|Datum|Envoyé|Enviad[oa](\s(el|em))?|Verzonden|Inviato|Wysłano|Skickat|Отправлено|送信日時|发送时间"
        + @"|To|An|À|A|Para|Aan|Do|Till|Кому|宛先|收件人|Cc|Bcc|Kopie|Copie|Copia|Cco|DW|UDW|Kopia|Копия|抄送|Subject|Betreff|Objet|Asunto|Assunto|Onderwerp|Oggetto|Temat|Ämne|Тема|件名|主题"
        + @"|Importance|Wichtigkeit|Priorität|Importancia|Importância|Priorità|Belang|Ważność|Prioritet|Важность|重要度|重要性|Attachments|Anlagen|Pièces jointes|Datos adjuntos|Anexos|Bijlagen|Allegati|Załączniki|Bifogade filer|Вложения|添付ファイル|附件"
        + @"|Reply-To|Antwort an|Répondre à|Responder a)\s?(:\*?(\s|$)|：)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex HeaderField();

    // A line that opens with a label of one to three words and a colon, as a header field does ("AWB: 618-…").
    [GeneratedRegex(@"^\*?[\p{L}\p{N}][\p{L}\p{N}\-]*(\s[\p{L}\p{N}\-]+){0,2}\s?(:\*?(\s|$)|：)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Labelled();

    [GeneratedRegex(@"^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Oorspronkelijk bericht|Messaggio originale|.{1,250}\s(wrote|schrieb|a\s+écrit)\s?:\s*-{2,})",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex SeparatorAtStart();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex WhiteSpace();
}
