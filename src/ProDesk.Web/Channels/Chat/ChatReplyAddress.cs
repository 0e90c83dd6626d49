using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.WorkItems;

namespace ProDesk.Web.Channels.Chat;

/// <summary>
/// Where an agent's reply on a chat goes: the visitor session that wrote last on the item, as "{item}/{session}". Not
/// to everyone on the item: chats are merged on an unverified email, and someone who typed another visitor's address
/// into the widget, once merged, heard every answer meant for that visitor and read them back on a reload (probe
/// round 17). A reply answers whoever spoke last, as it does in a live chat; the other sessions of a merged
/// conversation see their own part only.
/// </summary>
public static class ChatReplyAddress
{
    /// <summary>The address of a reply on <paramref name="itemId"/>; null when no visitor ever chatted there.</summary>
    public static async Task<string?> ForAsync(ProDeskDbContext db, Guid itemId, CancellationToken cancellationToken)
    {
        var latest = await db.WorkItemMessages.AsNoTracking()
            .Where(m => m.WorkItemId == itemId && m.Kind == MessageKind.Inbound && m.ExternalId != null && m.ExternalId.StartsWith(KeyPrefix))
            .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id)
            .Select(m => m.ExternalId).FirstOrDefaultAsync(cancellationToken);
        return latest is not null && Guid.TryParseExact(latest.AsSpan(KeyPrefix.Length, Math.Min(32, latest.Length - KeyPrefix.Length)), "N", out var session)
            ? $"{itemId}/{session:N}"
            : null;
    }

    /// <summary>The item and the session of a reply's address.</summary>
    public static bool TryParse(string to, out Guid itemId, out Guid sessionId)
    {
        sessionId = Guid.Empty;
        var slash = to.IndexOf('/', StringComparison.Ordinal);
        return Guid.TryParse(to.AsSpan(0, Math.Max(0, slash)), out itemId) && Guid.TryParseExact(to.AsSpan(slash + 1), "N", out sessionId);
    }

    /// <summary>How the addresses of the replies to a session end, whichever item they were on (merges move sessions).</summary>
    public static string EndingOf(Guid sessionId) => $"/{sessionId:N}";

    /// <summary>How a session's messages are keyed (<see cref="IngestMessage.MessageKey"/> of ChatHub.Send's external id).</summary>
    public static string KeyOf(Guid sessionId) => $"{KeyPrefix}{sessionId:N}/";

    private const string KeyPrefix = "chat:";
}
