using System.Collections.Frozen;
using ProDesk.Domain.WorkItems;

namespace ProDesk.Domain.Routing;

/// <summary>
/// The load units an item costs an agent, measured against <see cref="AgentProfile.Capacity"/>.
/// A conversation costs by channel, because a live chat or call holds the agent's attention while
/// an email waits politely (an agent with capacity 6 takes two chats, or one chat and three emails).
/// Back-office kinds cost by kind and ignore the channel they arrived through.
/// </summary>
/// <remarks>
/// A conversation on a channel with no configured weight (or none at all) costs
/// <see cref="UnlistedChannelWeight"/>, as much as an email, so a channel added later still routes.
/// </remarks>
public sealed class WorkWeights
{
    public const int UnlistedChannelWeight = 1;

    private static readonly FrozenDictionary<string, int> DefaultChannels = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        ["chat"] = 3,
        ["phone"] = 3,
        ["voice"] = 3,
        ["email"] = 1,
        ["sms"] = 1,
        ["webform"] = 1,
        ["api"] = 1,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<WorkItemKind, int> DefaultBackOffice = new Dictionary<WorkItemKind, int>
    {
        [WorkItemKind.SecretaryTask] = 1,
        [WorkItemKind.Invoice] = 1,
        [WorkItemKind.DataEntry] = 1,
    }.ToFrozenDictionary();

    private readonly FrozenDictionary<string, int> _channels;
    private readonly FrozenDictionary<WorkItemKind, int> _backOffice;

    /// <summary>The defaults: chat, phone and voice 3; email, sms, webform and api 1; back-office kinds 1.</summary>
    public static WorkWeights Default { get; } = new();

    /// <summary>
    /// The defaults, with the given entries replacing or adding to them (e.g. <c>{ ["chat"] = 2 }</c>).
    /// Channel names are matched without regard to case. Every weight must be at least 1, since a
    /// weightless item would let an agent take without limit.
    /// </summary>
    /// <exception cref="ArgumentException">A blank channel name, a weight under 1, a Conversation entry among
    /// the back-office weights (a conversation weighs by channel), or an undefined kind.</exception>
    public WorkWeights(IReadOnlyDictionary<string, int>? channels = null, IReadOnlyDictionary<WorkItemKind, int>? backOffice = null)
    {
        var channelWeights = new Dictionary<string, int>(DefaultChannels, StringComparer.OrdinalIgnoreCase);
        foreach (var (channel, weight) in channels ?? FrozenDictionary<string, int>.Empty)
        {
            if (string.IsNullOrWhiteSpace(channel))
            {
                throw new ArgumentException("a channel name must not be blank", nameof(channels));
            }

            channelWeights[channel] = AtLeastOne(weight, $"channel {channel}", nameof(channels));
        }

        var kindWeights = new Dictionary<WorkItemKind, int>(DefaultBackOffice);
        foreach (var (kind, weight) in backOffice ?? FrozenDictionary<WorkItemKind, int>.Empty)
        {
            if (kind == WorkItemKind.Conversation)
            {
                throw new ArgumentException("a conversation weighs by its channel; set the channel weights instead", nameof(backOffice));
            }

            if (!Enum.IsDefined(kind))
            {
                throw new ArgumentException($"{kind} is not a work item kind", nameof(backOffice));
            }

            kindWeights[kind] = AtLeastOne(weight, kind.ToString(), nameof(backOffice));
        }

        _channels = channelWeights.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _backOffice = kindWeights.ToFrozenDictionary();
    }

    /// <summary>The effective channel weights, for the supervisor's routing settings page.</summary>
    public IReadOnlyDictionary<string, int> ChannelWeights => _channels;

    /// <summary>The effective back-office weights, by kind.</summary>
    public IReadOnlyDictionary<WorkItemKind, int> BackOfficeWeights => _backOffice;

    /// <summary>The load units one item of <paramref name="kind"/> arriving on <paramref name="channel"/> costs.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a declared kind.</exception>
    public int WeightOf(WorkItemKind kind, string? channel) => kind switch
    {
        WorkItemKind.Conversation => channel is not null && _channels.TryGetValue(channel, out var weight) ? weight : UnlistedChannelWeight,
        WorkItemKind.SecretaryTask or WorkItemKind.Invoice or WorkItemKind.DataEntry => _backOffice[kind],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a work item kind"),
    };

    public int WeightOf(RoutingCandidate item) => WeightOf(item.Kind, item.Channel);

    private static int AtLeastOne(int weight, string what, string parameter) =>
        weight >= 1 ? weight : throw new ArgumentException($"the weight of {what} must be at least 1, not {weight}", parameter);
}
