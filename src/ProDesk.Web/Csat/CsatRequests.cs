using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.Channels.Email;
using ProDesk.Domain.Csat;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Csat;

/// <summary>
/// The satisfaction survey sent when a conversation is solved: one automatic mail with five
/// rating links (<c>{PublicBaseUrl}/csat/{token}/{1..5}</c>), each opening the rating page with its score
/// chosen and ready to send, written in the solve's own transaction and sent by the outbound dispatcher. Only for conversations answered by mail (email,
/// API, web form) whose contact has an address; chat and SMS customers are not mailed out of the blue. A web
/// form's address is whatever the visitor typed, so its contact is asked only after an agent's reply went there:
/// solving a spam form unanswered mailed the address it named a survey quoting the spammer's name and subject
/// (probe round 17). Each solve is numbered (the trail's moves to Solved), and the token names the number, so
/// a reopened and solved-again item asks again and each solve is rated once; but only when an agent answered the customer
/// since the previous solve: a "thank you" to the survey reopens the item, and solving it again had asked a second time
/// for the same help (probe round 20).
/// </summary>
public sealed class CsatRequests(ProDeskDbContext db, ITenantStore tenants, IOptions<SmtpOptions> smtp, IConfiguration configuration, TimeProvider clock)
{
    public const string PublicBaseUrlKey = "ProDesk:PublicBaseUrl";

    public const string DefaultPublicBaseUrl = "http://localhost:5080";

    // The web form's channel, which the chat's offline form shares: both take an address nobody has proven.
    private const string WebFormChannel = "webform";

    /// <summary>The labels of the five links, best first, as the mail lists them.</summary>
    public static readonly IReadOnlyList<(int Score, string Label)> Scale =
        [(5, "Very satisfied"), (4, "Satisfied"), (3, "Neutral"), (2, "Dissatisfied"), (1, "Very dissatisfied")];

    /// <summary>
    /// Adds the survey for <paramref name="item"/>, which the caller is moving to Solved and saves; null
    /// when it gets none. The caller has recorded the move in the trail but not saved it yet.
    /// </summary>
    public async Task<OutboundMessage?> AddAsync(WorkItem item, CancellationToken cancellationToken)
    {
        if (item.Kind != WorkItemKind.Conversation || ReplyDelivery.ChannelOf(item.Channel) != "email" || item.ContactId is not { } contactId)
        {
            return null;
        }

        var contact = await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == contactId, cancellationToken);
        var settings = await db.ChannelSettings.AsNoTracking().FirstOrDefaultAsync(c => c.TenantId == item.TenantId, cancellationToken);
        var tenant = await tenants.FindByIdAsync(item.TenantId, cancellationToken);
        if (contact?.Email is not { Length: > 0 } email || settings is null || tenant is null
            || (item.Channel == WebFormChannel
                && !await db.OutboundMessages.AnyAsync(o => o.WorkItemId == item.Id && o.Channel == "email" && !o.Automatic && o.To == email, cancellationToken)))
        {
            return null;
        }

        var solved = WorkItemStatus.Solved.ToString();
        var solves = await db.WorkItemChanges.Where(c => c.WorkItemId == item.Id && c.Field == "status" && c.To == solved)
            .GroupBy(c => c.WorkItemId).Select(g => new { Count = g.Count(), Latest = g.Max(c => c.At) }).FirstOrDefaultAsync(cancellationToken);
        // An agent's public reply is an outbound message that is no automatic mail; written at the solve's instant counts
        // as after it, erring on asking.
        if (solves is { } previous
            && !await db.OutboundMessages.AnyAsync(o => o.WorkItemId == item.Id && !o.Automatic && o.WorkItemMessageId != null && o.CreatedAt >= previous.Latest, cancellationToken))
        {
            return null;
        }

        var solve = 1 + (solves?.Count ?? 0);
        var token = CsatToken.Create(item.TenantId, item.Id, solve, settings.ReplyTokenKey);
        var thread = await db.WorkItemMessages.AsNoTracking()
            .Where(m => m.WorkItemId == item.Id && m.InternetMessageId != null && m.Kind != MessageKind.Note)
            .OrderBy(m => m.CreatedAt).Select(m => m.InternetMessageId!).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var survey = new OutboundMessage
        {
            Id = Guid.CreateVersion7(),
            TenantId = item.TenantId,
            WorkItemId = item.Id,
            Channel = "email",
            To = email,
            ToName = contact.Name,
            Subject = ReplyDelivery.SubjectOf(item.Subject),
            Body = Body(DisplayName.Of(contact.Name, email), item, tenant.Name, PublicBaseUrl(configuration), token),
            InternetMessageId = ReplyDelivery.NewMessageId(smtp.Value),
            InReplyTo = thread.LastOrDefault(),
            References = thread.Count == 0 ? null : string.Join(' ', thread.TakeLast(20)),
            // Sent by the system: Auto-Submitted, so the customer's autoresponder does not answer it.
            Automatic = true,
            State = OutboundState.Pending,
            NextAttemptAt = now,
            CreatedAt = now,
        };
        db.OutboundMessages.Add(survey);
        return survey;
    }

    /// <summary>
    /// Where customers reach this deployment (the rating links' origin), without a trailing slash: ProDesk:PublicBaseUrl, or
    /// the public URL already given for Twilio's webhooks, which is the same place (one setting was easy to miss).
    /// </summary>
    public static string PublicBaseUrl(IConfiguration configuration) =>
        (configuration[PublicBaseUrlKey] is { Length: > 0 } configured ? configured
            : configuration[Channels.Sms.TwilioInboundApi.PublicBaseUrlSetting] is { Length: > 0 } channels ? channels
            : DefaultPublicBaseUrl).TrimEnd('/');

    public static string Link(string baseUrl, string token, int score) => $"{baseUrl}/csat/{token}/{score}";

    /// <param name="name">The customer's name; null when only their address is known, which is no name to greet them by.</param>
    private static string Body(string? name, WorkItem item, string tenantName, string baseUrl, string token)
    {
        var text = new StringBuilder();
        text.Append(name is null ? "Hello" : $"Hello {name}").Append(",\n\n");
        text.Append("Your request \"").Append(item.Subject).Append("\" has been solved. How satisfied are you with the help you received? Choose your answer below, then press \"Send my rating\" on the page that opens:\n\n");
        foreach (var (score, label) in Scale)
        {
            text.Append(score).Append(" - ").Append(label).Append(": ").Append(Link(baseUrl, token, score)).Append('\n');
        }

        text.Append("\nYou can add a comment there too. If something is still not right, just reply to this mail.\n\n");
        text.Append("Reference: ").Append(item.Id).Append("\n\n").Append(tenantName).Append('\n');
        return text.ToString();
    }
}
