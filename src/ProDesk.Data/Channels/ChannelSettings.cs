using ProDesk.Domain.Tenancy;

namespace ProDesk.Data.Channels;

/// <summary>
/// A tenant's channel keys and addresses: one row per tenant. The inbound key is kept as a SHA-256
/// hash (it is a bearer secret); the widget key is public by nature (it sits in client web pages).
/// The reply-token and SMS keys are used for HMACs, so they are kept as they are.
/// </summary>
public sealed class ChannelSettings : ITenantOwned
{
    public Guid TenantId { get; set; }

    /// <summary>SHA-256 of the key that authenticates the inbound MIME route (<c>X-ProDesk-Key</c>).</summary>
    public required byte[] InboundKeyHash { get; set; }

    public required string WidgetKey { get; set; }

    /// <summary>From address of the tenant's mail; replies come back to it with a signed item token.</summary>
    public string? SupportAddress { get; set; }

    /// <summary>Signs the item token in reply addresses (32 random bytes per tenant).</summary>
    public required byte[] ReplyTokenKey { get; set; }

    /// <summary>The Twilio-style auth token that signs inbound SMS webhooks (X-Twilio-Signature).</summary>
    public string? SmsAuthToken { get; set; }

    /// <summary>The tenant's own SMS/WhatsApp number, the sender of replies.</summary>
    public string? SmsNumber { get; set; }

    /// <summary>The client wants no automatic acknowledgment of new mail (its own system answers, or none is wanted).</summary>
    public bool AcknowledgmentsOff { get; set; }

    /// <summary>
    /// The acknowledgment's text in the client's words and language, with the canned replies' placeholders
    /// (<c>{{contact.name}}</c>, <c>{{item.reference}}</c>, ...); null: the standard English text.
    /// </summary>
    public string? AcknowledgmentText { get; set; }

    public const int MaxAcknowledgmentLength = 4000;
}
