namespace ProDesk.Domain.Channels.Email;

/// <summary>
/// The per-item cap on automatic replies: the last guard against a ping-pong loop with an
/// autoresponder that slipped past <see cref="AutomaticMail"/> (one that sets no headers at all).
/// </summary>
/// <remarks>
/// <para>
/// A loop repeats itself: a machine answering us sends the same text, or the same subject under reply prefixes, time
/// after time. A person with several requests writes about different things. So the tight cap
/// (<see cref="MaxPerWindow"/>) counts only acknowledgments to the address for mails that repeat the one at hand (same
/// subject or same text, <see cref="RepeatKey"/>), and a wider one (<see cref="MaxDistinctPerWindow"/>) every
/// acknowledgment to it, which still ends a loop whose every mail differs. Satisfaction surveys and agents' replies count
/// in neither: the breaker is for machines, and a customer whose items were solved is no loop (probe round 20).
/// </para>
/// <para>
/// The window is half-open and ends now: a reply exactly <see cref="Window"/> ago no longer
/// counts. Replies stamped after now (clock skew between nodes) still count, erring on silence.
/// </para>
/// </remarks>
public sealed record AutoReplyLimit
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(1);

    /// <param name="maxPerWindow">Automatic replies allowed per window (to repeats of one mail, when counted so); 0 turns them off.</param>
    /// <param name="window">How far back to count; one hour when null.</param>
    /// <param name="maxDistinctPerWindow">Automatic replies allowed per window whatever the mails said; at least <paramref name="maxPerWindow"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative cap or a window that is not positive.</exception>
    public AutoReplyLimit(int maxPerWindow = 3, TimeSpan? window = null, int maxDistinctPerWindow = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxPerWindow);
        var length = window ?? DefaultWindow;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(length, TimeSpan.Zero, nameof(window));
        MaxPerWindow = maxPerWindow;
        MaxDistinctPerWindow = Math.Max(maxPerWindow, maxDistinctPerWindow);
        Window = length;
    }

    /// <summary>Automatic replies per window to mails that repeat each other (or to any, counted without keys).</summary>
    public int MaxPerWindow { get; }

    /// <summary>Automatic replies per window to one address, however different the mails.</summary>
    public int MaxDistinctPerWindow { get; }

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

    /// <summary>
    /// True when one more acknowledgment stays within both caps: <paramref name="repeatsWithinWindow"/> acknowledgments
    /// within the window answered mails with the same subject or text as this one, <paramref name="allWithinWindow"/>
    /// answered any mail of the address.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count.</exception>
    public bool Allows(int repeatsWithinWindow, int allWithinWindow)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(repeatsWithinWindow);
        ArgumentOutOfRangeException.ThrowIfNegative(allWithinWindow);
        return repeatsWithinWindow < MaxPerWindow && allWithinWindow < MaxDistinctPerWindow;
    }

    /// <summary>
    /// A 64-bit key of <paramref name="text"/> (a subject without its reply prefixes, or a body) that two mails share when
    /// they say the same thing: case, white space and line ends do not count. Null for blank text, which repeats nothing.
    /// </summary>
    public static long? RepeatKey(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var normal = new System.Text.StringBuilder(Math.Min(text.Length, MaxKeyedLength));
        var space = false;
        foreach (var c in text.Trim())
        {
            if (normal.Length >= MaxKeyedLength)
            {
                break;
            }

            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }

            if (space)
            {
                normal.Append(' ');
                space = false;
            }

            normal.Append(char.ToLowerInvariant(c));
        }

        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(normal.ToString()));
        return System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(hash);
    }

    /// <summary>Characters of a text its key reads: a loop's mails differ nowhere, a person's early on.</summary>
    private const int MaxKeyedLength = 4000;

    private static void RequireUtc(DateTime value, string name)
    {
        if (value.Kind == DateTimeKind.Local)
        {
            throw new ArgumentException("Expected a UTC time, got a local one.", name);
        }
    }
}
