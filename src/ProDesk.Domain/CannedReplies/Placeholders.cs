using System.Text;

namespace ProDesk.Domain.CannedReplies;

/// <summary>
/// Fills the placeholders of a canned reply (<c>{{contact.name}}</c>, <c>{{ item.subject }}</c>, ...)
/// with the values of one item, as plain text for the reply box.
/// </summary>
/// <remarks>
/// <para>One pass, left to right: an inserted value is never scanned again, so a contact who calls
/// themselves <c>{{agent.name}}</c> stays exactly that. Values are text: nothing is escaped or
/// interpreted here, since the reply body is plain text and every view escapes it.</para>
/// <para>A placeholder this class does not know is left as typed (an agent sees it and fixes it);
/// a known one without a value (a contact with no email) becomes empty and is reported in
/// <see cref="Rendered.Missing"/>, so the console can say so. Control characters other than line
/// breaks and tabs are dropped from values, and line breaks from single-line values (names,
/// subjects), so a value cannot reshape the reply around it.</para>
/// </remarks>
public static class Placeholders
{
    public const string ContactName = "contact.name";
    public const string ContactEmail = "contact.email";
    public const string ItemSubject = "item.subject";
    public const string ItemReference = "item.reference";
    public const string AgentName = "agent.name";
    public const string TenantName = "tenant.name";

    /// <summary>Every placeholder a template may use, in the order the console lists them.</summary>
    public static readonly IReadOnlyList<string> Known = [ContactName, ContactEmail, ItemSubject, ItemReference, AgentName, TenantName];

    /// <summary>The longest name looked for between the braces; anything longer is not a placeholder.</summary>
    private const int MaxNameLength = 64;

    /// <summary>The text; the known placeholders that had no value and the unknown ones left as typed (each once, in order of appearance).</summary>
    public sealed record Rendered(string Text, IReadOnlyList<string> Missing, IReadOnlyList<string> Unknown);

    /// <summary>
    /// Replaces every <c>{{name}}</c> (spaces inside the braces allowed, names case-insensitive) whose
    /// name is in <see cref="Known"/> with its value from <paramref name="values"/>.
    /// </summary>
    public static Rendered Render(string template, IReadOnlyDictionary<string, string?> values)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(values);
        var text = new StringBuilder(template.Length);
        var missing = new List<string>();
        var unknown = new List<string>();
        var at = 0;
        while (at < template.Length)
        {
            var open = template.IndexOf("{{", at, StringComparison.Ordinal);
            if (open < 0)
            {
                break;
            }

            var close = template.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close >= 0)
            {
                // "{{{{contact.name}}": the placeholder is the innermost pair; the braces before it are text.
                open = template.LastIndexOf("{{", close, StringComparison.Ordinal);
            }

            if (close < 0 || close - open - 2 > MaxNameLength)
            {
                // Not a placeholder: keep the braces and look again just after them.
                text.Append(template, at, open + 2 - at);
                at = open + 2;
                continue;
            }

            text.Append(template, at, open - at);
            var name = template[(open + 2)..close].Trim().ToLowerInvariant();
            if (Known.Contains(name))
            {
                var value = values.GetValueOrDefault(name);
                if (string.IsNullOrEmpty(value))
                {
                    AddOnce(missing, name);
                }
                else
                {
                    text.Append(AsText(value));
                }
            }
            else
            {
                AddOnce(unknown, template[(open + 2)..close].Trim());
                text.Append(template, open, close + 2 - open);
            }

            at = close + 2;
        }

        text.Append(template, at, template.Length - at);
        return new Rendered(text.ToString(), missing, unknown);
    }

    /// <summary>A value as it goes into the text: no control characters, no line breaks (every known value is one line).</summary>
    private static string AsText(string value)
    {
        var clean = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is '\r' or '\n')
            {
                clean.Append(' ');
            }
            else if (!char.IsControl(c) || c is '\t')
            {
                clean.Append(c);
            }
        }

        return clean.ToString().Trim();
    }

    private static void AddOnce(List<string> list, string name)
    {
        if (!list.Contains(name))
        {
            list.Add(name);
        }
    }
}
