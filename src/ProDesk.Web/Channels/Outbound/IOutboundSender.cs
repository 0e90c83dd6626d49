using ProDesk.Data.Channels;

namespace ProDesk.Web.Channels.Outbound;

/// <summary>Sends one outbound message on one channel (SMTP, an SMS gateway, the chat hub).</summary>
public interface IOutboundSender
{
    /// <summary>The <see cref="OutboundMessage.Channel"/> values this sender serves.</summary>
    IReadOnlyCollection<string> Channels { get; }

    /// <summary>Throws <see cref="PermanentSendFailureException"/> when a retry cannot help; any other exception is retried with backoff.</summary>
    Task SendAsync(OutboundMessage message, ChannelSettings settings, string tenantName, CancellationToken cancellationToken);
}

/// <summary>The receiving side refused for good (a 5xx SMTP answer to the recipient, an invalid number): no retry.</summary>
public sealed class PermanentSendFailureException(string message, Exception? inner = null) : Exception(message, inner);
