using ProDesk.Data.Channels;
using ProDesk.Domain.CannedReplies;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// What the automatic acknowledgment of a new mail says: the client's own text (<see cref="ChannelSettings.AcknowledgmentText"/>,
/// in its customers' language) with the canned replies' placeholders filled, or the standard English text. The
/// placeholders are filled as plain text in one pass (<see cref="Placeholders"/>): a sender naming themselves
/// <c>{{item.reference}}</c> stays exactly that.
/// </summary>
public static class AcknowledgmentText
{
    public const string Standard =
        "Thank you for your message. We have received it and will answer as soon as we can.\n\nReference: {{item.reference}}\n\nTo add anything, reply to this mail.";

    /// <summary>Placeholders an acknowledgment can fill: there is no agent yet.</summary>
    public static readonly IReadOnlyList<string> Known = [.. Placeholders.Known.Where(p => p != Placeholders.AgentName)];

    public static string For(ChannelSettings? settings, Guid reference, string subject, string? senderName, string? tenantName) =>
        Placeholders.Render(settings?.AcknowledgmentText ?? Standard, new Dictionary<string, string?>
        {
            [Placeholders.ContactName] = senderName,
            [Placeholders.ItemSubject] = subject,
            [Placeholders.ItemReference] = reference.ToString(),
            [Placeholders.TenantName] = tenantName,
        }).Text;

    /// <summary>What is wrong with a client's text, or null: blank, too long, or naming a placeholder it cannot fill.</summary>
    public static string? Problem(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "must not be blank (send null for the standard text, or turn acknowledgments off)";
        }

        if (text.Length > ChannelSettings.MaxAcknowledgmentLength)
        {
            return $"must be at most {ChannelSettings.MaxAcknowledgmentLength} characters";
        }

        // Unknown names, and known ones with nothing to fill them with yet ({{agent.name}}: nobody has taken the mail).
        var rendered = Placeholders.Render(text, new Dictionary<string, string?>());
        var wrong = rendered.Unknown.Concat(rendered.Missing.Where(name => !Known.Contains(name))).ToList();
        return wrong.Count > 0
            ? $"names placeholders an acknowledgment cannot fill: {string.Join(", ", wrong)}; it may use {string.Join(", ", Known.Select(k => "{{" + k + "}}"))}"
            : null;
    }
}
