using System.Globalization;
using System.Text;

namespace ProDesk.Web.Cli;

/// <summary>
/// Text from outside (a mail's subject or sender, a tenant's name) made safe to print as one field of a tab-separated
/// line: every control character (tab, line breaks, ESC and the C1 controls that start terminal sequences) and the
/// Unicode line and paragraph separators are written as <c>\uXXXX</c>, and a backslash as <c>\\</c>, so a field can
/// neither add columns or rows nor drive the operator's terminal, and what was escaped can still be told apart.
/// </summary>
public static class CliText
{
    /// <summary>
    /// Who a verb's change is audited as: the operator's account on this machine, marked <c>cli:</c>, since the command
    /// line has no signed-in user.
    /// </summary>
    public static string Operator => $"cli:{Environment.UserName}@{Environment.MachineName}";

    public static string Field(string? value)
    {
        if (string.IsNullOrEmpty(value) || !value.Any(NeedsEscape))
        {
            return value ?? "";
        }

        var safe = new StringBuilder(value.Length + 16);
        foreach (var c in value)
        {
            if (c == '\\')
            {
                safe.Append(@"\\");
            }
            else if (NeedsEscape(c))
            {
                safe.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                safe.Append(c);
            }
        }

        return safe.ToString();
    }

    private static bool NeedsEscape(char c) => c == '\\' || char.IsControl(c) || c is '\u2028' or '\u2029';
}
