using ProDesk.Domain.Channels.Sms;
using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Channels;

/// <summary>
/// A keyword text (STOP, START, HELP and the like, <see cref="TextKeywords"/>) a number sent to the tenant's SMS number:
/// kept here instead of as a message on an item, once per Twilio MessageSid. The number's latest opt-out or opt-in
/// says whether texts may go to it, as <see cref="EmailSuppression"/> does for mail.
/// </summary>
public sealed class SmsKeywordText : ITenantOwned
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    /// <summary>Twilio's id of the text: a redelivery of the same text is stored once.</summary>
    public required string MessageSid { get; set; }

    /// <summary>The sender's number as Twilio gave it (E.164 where it is one), as SMS messages' FromAddress is kept.</summary>
    public required string Number { get; set; }

    /// <summary>The keyword as texted, in capitals.</summary>
    public required string Keyword { get; set; }

    public TextKeyword Kind { get; set; }

    /// <summary>The customer's open SMS item the text was noted on, if there was one.</summary>
    public Guid? WorkItemId { get; set; }

    public DateTime ReceivedAt { get; set; }
}
