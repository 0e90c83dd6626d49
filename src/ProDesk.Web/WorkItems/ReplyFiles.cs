using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Channels.Outbound;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// Files an agent sends with a public reply (probe round 20): files already on the item (a customer's, or one uploaded
/// through the attachments route), named by id. They go out as the mail's attachments; the outbound row keeps their
/// ids and names (<see cref="Data.Channels.OutboundMessage.AttachmentsJson"/>) and the sender reads the stored bytes at
/// each attempt, so a retry sends them again and no copy of the bytes sits in the database.
/// </summary>
public static class ReplyFiles
{
    /// <summary>One file of a reply, as the sender needs it.</summary>
    public sealed record OutboundFile(Guid Id, string FileName, string ContentType);

    /// <summary>Files per reply at most; a desk's reply carries a few documents, not an archive.</summary>
    public const int MaxFiles = 10;

    /// <summary>
    /// The files' total at most, by default 18 MiB: base64 makes that about 25 MB of mail, which common relays and
    /// mailboxes still take (many refuse above 25 MB), so a reply is not bounced for its size after the agent moved on.
    /// </summary>
    public static long MaxTotalBytes(IConfiguration configuration) => configuration.GetValue("Attachments:MaxReplyBytes", 18L * 1024 * 1024);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The files <paramref name="ids"/> names on item <paramref name="itemId"/>, or the problem with them, naming
    /// <c>attachmentIds</c>. Another item's or another tenant's id (the query filter hides the latter) is "not a file of
    /// this item", alike. Only mail carries files: SMS and chat replies are refused, since a text cannot carry a file and
    /// a link would need the customer to sign in to the desk.
    /// </summary>
    public static async Task<(ValidationProblem? Problem, IReadOnlyList<OutboundFile> Files)> CheckAsync(
        ProDeskDbContext db, Guid itemId, string itemChannel, IReadOnlyList<Guid>? ids, long maxTotal, CancellationToken cancellationToken)
    {
        if (ids is null || ids.Count == 0)
        {
            return (null, []);
        }

        ValidationProblem Problem(string message) => TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["attachmentIds"] = [message] });
        var wanted = ids.Distinct().ToList();
        if (wanted.Count > MaxFiles)
        {
            return (Problem($"at most {MaxFiles} files per reply ({wanted.Count} were named)"), []);
        }

        var channel = ReplyDelivery.ChannelOf(itemChannel);
        if (channel != "email")
        {
            return (Problem($"files go out only by email; a reply on this {channel} conversation cannot carry them, so send the text alone"), []);
        }

        var found = await db.WorkItemAttachments.AsNoTracking().Where(a => a.WorkItemId == itemId && wanted.Contains(a.Id))
            .Select(a => new { a.Id, a.FileName, a.ContentType, a.Length }).ToListAsync(cancellationToken);
        if (wanted.Where(id => found.All(f => f.Id != id)).ToList() is { Count: > 0 } missing)
        {
            return (Problem($"{string.Join(", ", missing)} {(missing.Count == 1 ? "is not a file" : "are not files")} of this item; upload to the item first"), []);
        }

        var total = found.Sum(f => f.Length);
        if (total > maxTotal)
        {
            return (Problem($"the files come to {total} bytes; a reply may carry at most {maxTotal} bytes (a mail's limit at many recipients)"), []);
        }

        // In the order the agent named them.
        return (null, [.. wanted.Select(id => found.First(f => f.Id == id)).Select(f => new OutboundFile(f.Id, f.FileName, f.ContentType))]);
    }

    public static string? Write(IReadOnlyList<OutboundFile>? files) => files is { Count: > 0 } ? JsonSerializer.Serialize(files, Json) : null;

    public static IReadOnlyList<OutboundFile> Read(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<OutboundFile>>(json, Json) ?? [];
}
