namespace ProDesk.Domain.Channels.Sms;

/// <summary>What a keyword text asks of the sender's number.</summary>
public enum TextKeyword
{
    /// <summary>No more texts to this number (Twilio blocks them itself from then on).</summary>
    OptOut,

    /// <summary>Texts may go to this number again.</summary>
    OptIn,

    /// <summary>Asks for help; Twilio answers it itself.</summary>
    Help,
}

/// <summary>
/// Twilio's default keywords for long codes: a text that is exactly one of them (case aside, trimmed) is handled by
/// Twilio (it answers, and blocks or unblocks the number), so it is no request for the desk. "STOP please" is a person's
/// words, not a keyword. WhatsApp has no keyword handling at Twilio: the caller asks only of SMS.
/// </summary>
public static class TextKeywords
{
    // Twilio's documented list (Advanced Opt-Out): OPTOUT and REVOKE were added to the older six.
    private static readonly string[] OptOut = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"];

    private static readonly string[] OptIn = ["START", "YES", "UNSTOP"];

    private static readonly string[] Help = ["HELP", "INFO"];

    /// <summary>The keyword <paramref name="body"/> is, with what it asks; null for any other text.</summary>
    public static (string Word, TextKeyword Kind)? Of(string? body)
    {
        var word = body?.Trim().ToUpperInvariant();
        if (string.IsNullOrEmpty(word) || word.Length > 16)
        {
            return null;
        }

        return OptOut.Contains(word, StringComparer.Ordinal) ? (word, TextKeyword.OptOut)
            : OptIn.Contains(word, StringComparer.Ordinal) ? (word, TextKeyword.OptIn)
            : Help.Contains(word, StringComparer.Ordinal) ? (word, TextKeyword.Help)
            : null;
    }
}
