namespace ProDesk.Domain.Channels.Sms;

/// <summary>
/// Cuts a reply into messages a gateway accepts: Twilio refuses a body over 1,600 characters (error
/// 21617), for SMS and WhatsApp alike. Cuts fall on a line break or a space when one is near the end
/// of a part, and never inside a surrogate pair.
/// </summary>
public static class SmsSegments
{
    public const int MaxLength = 1600;

    public static IReadOnlyList<string> Split(string body, int maxLength = MaxLength)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        var parts = new List<string>();
        var rest = body.Trim();
        while (rest.Length > maxLength)
        {
            var cut = maxLength;
            // A word boundary in the last fifth of the part reads better than a cut mid-word.
            var boundary = rest.LastIndexOfAny(['\n', ' '], maxLength - 1, maxLength / 5);
            if (boundary > 0)
            {
                cut = boundary;
            }
            else if (char.IsHighSurrogate(rest[cut - 1]))
            {
                cut--;
            }

            parts.Add(rest[..cut].TrimEnd());
            rest = rest[cut..].TrimStart();
        }

        if (rest.Length > 0 || parts.Count == 0)
        {
            parts.Add(rest);
        }

        return parts;
    }
}
