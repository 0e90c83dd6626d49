namespace ProDesk.Web.Channels;

/// <summary>A subject for channels that have none (SMS, a web form left without one): the message's first line, cut short.</summary>
public static class SubjectLine
{
    public const int MaxLength = 80;

    public static string FromBody(string body, string fallback)
    {
        // As a one-line field: a body keeps its bidi controls, but a subject made of its first line must not turn the list around.
        var line = body.Split('\n').Select(PlainText.Line).FirstOrDefault(l => l.Length > 0);
        if (line is null)
        {
            return fallback;
        }

        return line.Length <= MaxLength ? line : Email.SafeFileName.CutAt(line, MaxLength - 1).TrimEnd() + "…";
    }
}
