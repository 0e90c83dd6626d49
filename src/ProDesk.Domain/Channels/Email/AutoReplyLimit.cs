namespace ProDesk.Domain.Channels.Email;

/// <summary>
/// The per-item cap on automatic replies: the last guard against a ping-pong loop with an
/// autoresponder that slipped past <see cref="AutomaticMail"/> (one that sets no headers at all).
/// </summary>
/// <remarks>
/// The window is half-open and ends now: a reply exactly <see cref="Window"/> ago no longer
/// counts. Replies stamped after now (clock skew between nodes) still count, erring on silence.
/// </remarks>
public sealed record AutoReplyLimit
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(1);

    /// <param name="maxPerWindow">Automatic replies allowed per window; 0 turns them off.</param>
    /// <param name="window">How far back to count; one hour when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative cap or a window that is not positive.</exception>
    public AutoReplyLimit(int maxPerWindow = 3, TimeSpan? window = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxPerWindow);
        var length = window ?? DefaultWindow;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(length, TimeSpan.Zero, nameof(window));
        MaxPerWindow = maxPerWindow;
        Window = length;
    }

    public int MaxPerWindow { get; }

    public TimeSpan Window { get; }

    /// <summary>True when one more automatic reply stays within the cap.</summary>
    /// <param name="previousAutoRepliesUtc">When this item's earlier automatic replies went out (UTC).</param>
    /// <param name="nowUtc">The current time (UTC).</param>
    /// <exception cref="ArgumentException">A time is of kind Local, which would shift the window by the offset.</exception>
    public bool Allows(IReadOnlyCollection<DateTime> previousAutoRepliesUtc, DateTime nowUtc)
    {
        ArgumentNullException.ThrowIfNull(previousAutoRepliesUtc);
        RequireUtc(nowUtc, nameof(nowUtc));
        var since = nowUtc - Window;
        var recent = 0;
        foreach (var sent in previousAutoRepliesUtc)
        {
            RequireUtc(sent, nameof(previousAutoRepliesUtc));
            if (sent > since)
            {
                recent++;
            }
        }

        return recent < MaxPerWindow;
    }

    /// <summary>True when one more automatic reply stays within the cap, given how many went out within the window (counted by the caller).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count.</exception>
    public bool Allows(int repliesWithinWindow)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(repliesWithinWindow);
        return repliesWithinWindow < MaxPerWindow;
    }

    private static void RequireUtc(DateTime value, string name)
    {
        if (value.Kind == DateTimeKind.Local)
        {
            throw new ArgumentException("Expected a UTC time, got a local one.", name);
        }
    }
}
