namespace ProDesk.Domain.Contacts;

/// <summary>
/// One spelling per phone number, so that "+33 1 23 45 67 89" typed by an agent and "+33123456789"
/// from an SMS gateway find the same contact: an international number (a leading + or 00) is written
/// as an SMS gateway sends it, in E.164 (<see cref="Channels.Sms.PhoneNumbers.ToE164"/>: "+44 (0) 20 ..."
/// loses its trunk 0); a national number valid in the tenant's <c>region</c> (<see cref="PhoneRegion"/>) is completed
/// to E.164 with libphonenumber ("06 12 34 56 78" in FR is +33612345678, as the gateway sends it); anything else loses
/// its separators (spaces, dots, dashes, parentheses), keeps a leading +, and must be 3 to 20 digits.
/// </summary>
public static class PhoneNumber
{
    public const int MaxDigits = 20;

    /// <summary>
    /// The normalised number, or null when <paramref name="input"/> is not a phone number. With <paramref name="region"/>
    /// (ISO 3166 alpha-2), a national number valid there becomes E.164.
    /// </summary>
    public static string? Normalize(string? input, string? region)
    {
        var normal = Normalize(input);
        if (normal is null || region is null || normal[0] == '+')
        {
            return normal;
        }

        try
        {
            var util = global::PhoneNumbers.PhoneNumberUtil.GetInstance();
            var parsed = util.Parse(normal, region);
            return util.IsValidNumberForRegion(parsed, region) ? util.Format(parsed, global::PhoneNumbers.PhoneNumberFormat.E164) : normal;
        }
        catch (global::PhoneNumbers.NumberParseException)
        {
            return normal;
        }
    }

    /// <summary>
    /// How a contact saved before national numbers were completed holds <paramref name="e164"/>: its national digits
    /// ("+33612345678" in FR: "0612345678"), when the number belongs to <paramref name="region"/>; null otherwise.
    /// Lookups match both spellings, so those contacts are found without rewriting them.
    /// </summary>
    public static string? NationalDigits(string? e164, string? region)
    {
        if (region is null || !Channels.Sms.PhoneNumbers.IsE164(e164))
        {
            return null;
        }

        try
        {
            var util = global::PhoneNumbers.PhoneNumberUtil.GetInstance();
            var parsed = util.Parse(e164, region);
            if (util.GetRegionCodeForNumber(parsed) != region)
            {
                return null;
            }

            var national = new string([.. util.Format(parsed, global::PhoneNumbers.PhoneNumberFormat.NATIONAL).Where(char.IsAsciiDigit)]);
            return national.Length is >= 3 and <= MaxDigits ? national : null;
        }
        catch (global::PhoneNumbers.NumberParseException)
        {
            return null;
        }
    }

    /// <summary>The normalised number, or null when <paramref name="input"/> is not a phone number; national numbers as typed.</summary>
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
