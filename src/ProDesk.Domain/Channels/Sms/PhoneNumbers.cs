namespace ProDesk.Domain.Channels.Sms;

/// <summary>
/// Phone numbers as SMS gateways exchange them: E.164 (<c>+</c>, country code, subscriber number, at
/// most 15 digits), and Twilio's channel-prefixed form for WhatsApp (<c>whatsapp:+15551234567</c>).
/// </summary>
/// <remarks>
/// Gateways already send E.164, so this only removes the separators people type and turns a
/// <c>00</c> international prefix into <c>+</c>. It does not guess a country for national numbers
/// (that needs a region and numbering-plan data): those, short codes and alphanumeric sender ids
/// are not E.164 and <see cref="ToE164"/> gives null for them.
/// </remarks>
public static class PhoneNumbers
{
    public const string WhatsAppPrefix = "whatsapp:";

    /// <summary>A <c>+</c>, a country code not starting with 0, 7 to 15 digits in all, nothing else.</summary>
    public static bool IsE164(string? value)
    {
        if (value is null || value.Length is < 8 or > 16 || value[0] != '+' || value[1] == '0')
        {
            return false;
        }

        return !value.AsSpan(1).ContainsAnyExceptInRange('0', '9');
    }

    /// <summary>
    /// Whether a gateway could have sent a text from <paramref name="number"/>: an E.164 number, a short code
    /// (3 to 8 digits) or an alphanumeric sender id (up to 11 letters, digits and spaces, at least one letter).
    /// </summary>
    public static bool IsSender(string? number)
    {
        if (IsE164(number))
        {
            return true;
        }

        if (string.IsNullOrEmpty(number) || number.Length > 11 || number[0] == ' ' || number[^1] == ' ')
        {
            return false;
        }

        return number.All(char.IsAsciiDigit)
            ? number.Length >= 3 && number.Length <= 8
            : number.All(c => char.IsAsciiLetterOrDigit(c) || c == ' ') && number.Any(char.IsAsciiLetter);
    }

    /// <summary>The E.164 form of an international number written with spaces, dots, dashes or parentheses; null otherwise.</summary>
    public static string? ToE164(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 40)
        {
            return null;
        }

        var digits = new System.Text.StringBuilder(16);
        var international = false;
        var text = value.Trim();
        if (text.StartsWith('+'))
        {
            international = true;
            text = text[1..];
        }
        else if (text.StartsWith("00", StringComparison.Ordinal))
        {
            international = true;
            text = text[2..];
        }

        if (international)
        {
            // "+44 (0) 20 7946 0958": the national trunk prefix, written for callers at home, is no part of the number.
            text = text.Replace("(0)", "", StringComparison.Ordinal);
        }

        foreach (var c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                digits.Append(c);
            }
            else if (c is not (' ' or '.' or '-' or '(' or ')' or '\u00A0'))
            {
                return null;
            }
        }

        var candidate = "+" + digits;
        return international && IsE164(candidate) ? candidate : null;
    }

    /// <summary>
    /// Splits a Twilio address into its channel and number: <c>whatsapp:+1555...</c> is ("whatsapp",
    /// "+1555..."), anything else is ("sms", the address). The number is in E.164 when it can be,
    /// else as given (a short code, an alphanumeric sender).
    /// </summary>
    public static (string Channel, string Number) FromTwilioAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var text = address.Trim();
        var channel = "sms";
        if (text.StartsWith(WhatsAppPrefix, StringComparison.OrdinalIgnoreCase))
        {
            channel = "whatsapp";
            text = text[WhatsAppPrefix.Length..].Trim();
        }

        return (channel, ToE164(text) ?? text);
    }

    /// <summary>The address Twilio expects for <paramref name="number"/> on <paramref name="channel"/>.</summary>
    public static string ToTwilioAddress(string channel, string number) =>
        channel == "whatsapp" ? WhatsAppPrefix + number : number;
}
