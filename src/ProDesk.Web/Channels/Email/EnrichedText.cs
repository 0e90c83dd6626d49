using System.Text;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// RFC 1896 text/enriched read as plain text: formatting commands ("&lt;bold&gt;") dropped with any &lt;param&gt; they
/// carry, "&lt;&lt;" is a '&lt;', a single line break is a space, and n line breaks in a row are n - 1.
/// </summary>
public static class EnrichedText
{
    public static string ToPlainText(string enriched)
    {
        var text = new StringBuilder(enriched.Length);
        var paramDepth = 0;
        var noFill = 0;
        for (var i = 0; i < enriched.Length; i++)
        {
            var c = enriched[i];
            if (c == '<' && i + 1 < enriched.Length && enriched[i + 1] == '<')
            {
                if (paramDepth == 0)
                {
                    text.Append('<');
                }

                i++;
            }
            else if (c == '<' && enriched.IndexOf('>', i) is > 0 and var close)
            {
                var command = enriched[(i + 1)..close].Trim().ToLowerInvariant();
                paramDepth += command == "param" ? 1 : command == "/param" && paramDepth > 0 ? -1 : 0;
                noFill += command == "nofill" ? 1 : command == "/nofill" && noFill > 0 ? -1 : 0;
                i = close;
            }
            else if (paramDepth > 0)
            {
                continue;
            }
            else if (c is '\r' or '\n' && noFill == 0)
            {
                var breaks = 0;
                while (i < enriched.Length && enriched[i] is '\r' or '\n')
                {
                    breaks += enriched[i] == '\n' || i + 1 >= enriched.Length || enriched[i + 1] != '\n' ? 1 : 0;
                    i++;
                }

                i--;
                text.Append(breaks == 1 ? " " : new string('\n', breaks - 1));
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString().Trim();
    }
}
