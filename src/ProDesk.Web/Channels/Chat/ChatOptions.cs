namespace ProDesk.Web.Channels.Chat;

/// <summary>
/// Limits of the web chat (configuration section <c>Chat</c>). The widget key is public (it sits in
/// client pages), so these are what stands between a script and a flooded queue. Counted per node;
/// the client IP is the connection's remote address (behind a proxy, configure forwarded headers).
/// </summary>
public sealed class ChatOptions
{
    /// <summary>Characters in one message.</summary>
    public int MaxMessageLength { get; set; } = 5_000;

    /// <summary>Messages one IP may send a minute, also the burst it may send at once: a fast typist sends a few, a script hundreds.</summary>
    public int MessagesPerMinutePerIp { get; set; } = 20;

    /// <summary>Messages one tenant's widget may receive a second across all visitors (a burst of ten times that is allowed).</summary>
    public int MessagesPerSecondPerWidget { get; set; } = 10;

    /// <summary>Pre-chat and offline forms one IP may send an hour (a burst of that many, then evenly).</summary>
    public int ConversationsPerHourPerIp { get; set; } = 20;

    /// <summary>Open visitor connections from one IP (a few tabs, or an office behind one address).</summary>
    public int ConnectionsPerIp { get; set; } = 50;

    /// <summary>Connection attempts (SignalR negotiations) one IP may make a minute.</summary>
    public int NegotiationsPerMinutePerIp { get; set; } = 60;

    /// <summary>Status, pre-chat and resume calls (each a read; a resume loads the conversation) one IP may make a minute.</summary>
    public int ReadsPerMinutePerIp { get; set; } = 120;
}
