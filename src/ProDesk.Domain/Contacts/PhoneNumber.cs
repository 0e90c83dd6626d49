namespace ProDesk.Domain.Contacts;

/// <summary>
/// One spelling per phone number, so that "+33 1 23 45 67 89" typed by an agent and "+33123456789"
/// from an SMS gateway find the same contact: an international number (a leading + or 00) is written
/// as an SMS gateway sends it, in E.164 (<see cref="Channels.Sms.PhoneNumbers.ToE164"/>: "+44 (0) 20 ..."
/// loses its trunk 0); anything else loses its separators (spaces, dots, dashes, parentheses), keeps a
/// leading +, and must be 3 to 20 digits.
/// </summary>
public static class PhoneNumber
{
    public const int MaxDigits = 20;

    /// <summary>The normalised number, or null when <paramref name="input"/> is not a phone number.</summary>
    public static string? Normalize(string? input)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return null;
        }

        if (Channels.Sms.PhoneNumbers.ToE164(input) is { } international)
        {
            return international;
        }

        var text = input.Trim();
        var plus = text.StartsWith('+');
        var digits = new System.Text.StringBuilder(text.Length);
        foreach (var c in plus ? text[1..] : text)
        {
            if (char.IsAsciiDigit(c))
            {
                digits.Append(c);
            }
            else if (c is not (' ' or '.' or '-' or '(' or ')'))
            {
                return null;
            }
        }

        return digits.Length is >= 3 and <= MaxDigits ? (plus ? "+" : "") + digits : null;
    }
}
