namespace ProDesk.Web.Channels.Email;

/// <summary>
/// What one message may cost to parse. Anything beyond a limit is not trimmed but refused
/// (<see cref="UnparseableEmailException"/>), so the caller quarantines it for a person to look at; only files past
/// <see cref="MaxAttachmentBytes"/> are left out instead, with a note, so a customer's words never wait on a video.
/// </summary>
public sealed record EmailParserLimits
{
    public static EmailParserLimits Default { get; } = new();

    /// <summary>The raw message, as received: room for <see cref="MaxAttachmentBytes"/> of files in base64 (4/3, plus line breaks) and the text.</summary>
    public long MaxBytes { get; init; } = 50L * 1024 * 1024;

    /// <summary>Multiparts and attached messages nested in each other; real mail stays under ten.</summary>
    public int MaxMimeDepth { get; init; } = 32;

    /// <summary>Entities of every kind in the whole message, attached messages included.</summary>
    public int MaxParts { get; init; } = 500;

    /// <summary>Header fields of every part together.</summary>
    public int MaxHeaders { get; init; } = 2_000;

    /// <summary>Decoded attachment content in total; files past it are left out with a note on the message, the rest is taken in.</summary>
    public long MaxAttachmentBytes { get; init; } = 25L * 1024 * 1024;

    /// <summary>The plain text body is cut (not refused) at this many characters.</summary>
    public int MaxTextChars { get; init; } = 1024 * 1024;

    /// <summary>The HTML body is cut before sanitizing at this many characters; the sanitizer copes with the broken end.</summary>
    public int MaxHtmlChars { get; init; } = 2 * 1024 * 1024;

    /// <summary>
    /// Tags in the HTML body (counted lexically, so an upper bound). The HTML parser is linear on
    /// ordinary markup but superlinear on hostile nesting (50,000 unclosed &lt;div&gt; take
    /// seconds per pass); this bounds that, far above what real mail, long Outlook threads
    /// included, contains.
    /// </summary>
    public int MaxHtmlTags { get; init; } = 20_000;
}
