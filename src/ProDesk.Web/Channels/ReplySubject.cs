using System.Text.RegularExpressions;

namespace ProDesk.Web.Channels;

/// <summary>
/// "Re: Order 4711" answers "Order 4711": the reply prefixes mail programs write, in the languages clients'
/// customers use (Re, Aw, Sv, Antw, Rif, Res, Odp, Vs, Ynt), any number of them, with or without a count
/// ("Re[2]:"). A forward (Fwd:) starts something new, so it answers nothing.
/// </summary>
public static partial class ReplySubject
{
    /// <summary>The subject <paramref name="subject"/> answers, or null when it carries no reply prefix.</summary>
    public static string? Answered(string subject)
    {
        var match = Prefixes().Match(subject);
        if (!match.Success)
        {
            return null;
        }

        var answered = subject[match.Length..].Trim();
        return answered.Length > 0 ? answered : null;
    }

    /// <summary>
    /// Whether <paramref name="subject"/> opens with a forward prefix: Fwd/FW, and Outlook's WG (German), TR (French), RV
    /// (Spanish), I (Italian), Doorst (Dutch), VB (Swedish), VL (Finnish), PD (Polish), ENC (Portuguese), after any reply prefixes.
    /// </summary>
    public static bool IsForward(string subject) => Forward().IsMatch(subject);

    [GeneratedRegex(@"^\s*(?:(?:re|aw|sv|antw|rif|res|odp|vs|ynt)\s*(?:\[\d{1,4}\])?\s*:\s*)*(?:fwd?|wg|tr|rv|i|doorst|vb|vl|pd|enc)\s*:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Forward();

    [GeneratedRegex(@"^\s*(?:(?:re|aw|sv|antw|rif|res|odp|vs|ynt)\s*(?:\[\d{1,4}\])?\s*:\s*)+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Prefixes();
}
