using ProDesk.Domain.Routing;
using ProDesk.Domain.WorkItems;

namespace ProDesk.Domain.Tests.Routing;

public sealed class WorkWeightsTests
{
    [Theory]
    [InlineData("chat", 3)]
    [InlineData("phone", 3)]
    [InlineData("voice", 3)]
    [InlineData("email", 1)]
    [InlineData("sms", 1)]
    [InlineData("webform", 1)]
    [InlineData("api", 1)]
    public void A_conversation_weighs_by_its_channel(string channel, int weight) =>
        Assert.Equal(weight, WorkWeights.Default.WeightOf(WorkItemKind.Conversation, channel));

    [Fact]
    public void A_chat_weighs_more_than_an_email()
    {
        Assert.True(WorkWeights.Default.WeightOf(WorkItemKind.Conversation, "chat") > WorkWeights.Default.WeightOf(WorkItemKind.Conversation, "email"));
    }

    [Theory]
    [InlineData(WorkItemKind.SecretaryTask, null)]
    [InlineData(WorkItemKind.SecretaryTask, "phone")]
    [InlineData(WorkItemKind.Invoice, "email")]
    [InlineData(WorkItemKind.Invoice, "chat")]
    [InlineData(WorkItemKind.DataEntry, null)]
    [InlineData(WorkItemKind.DataEntry, "api")]
    public void A_back_office_item_weighs_one_whatever_it_came_through(WorkItemKind kind, string? channel) =>
        Assert.Equal(1, WorkWeights.Default.WeightOf(kind, channel));

    [Theory]
    [InlineData(null)]
    [InlineData("whatsapp")]
    [InlineData("carrier-pigeon")]
    public void A_conversation_on_an_unlisted_or_unknown_channel_weighs_as_an_email(string? channel) =>
        Assert.Equal(WorkWeights.UnlistedChannelWeight, WorkWeights.Default.WeightOf(WorkItemKind.Conversation, channel));

    [Theory]
    [InlineData("CHAT")]
    [InlineData("Chat")]
    public void Channel_names_match_whatever_their_case(string channel) =>
        Assert.Equal(3, WorkWeights.Default.WeightOf(WorkItemKind.Conversation, channel));

    [Fact]
    public void Configured_weights_replace_the_defaults_they_name_and_keep_the_others()
    {
        var weights = new WorkWeights(
            new Dictionary<string, int> { ["Chat"] = 2, ["whatsapp"] = 2 },
            new Dictionary<WorkItemKind, int> { [WorkItemKind.Invoice] = 2 });

        Assert.Equal(2, weights.WeightOf(WorkItemKind.Conversation, "chat"));
        Assert.Equal(2, weights.WeightOf(WorkItemKind.Conversation, "WhatsApp"));
        Assert.Equal(3, weights.WeightOf(WorkItemKind.Conversation, "phone"));
        Assert.Equal(1, weights.WeightOf(WorkItemKind.Conversation, "email"));
        Assert.Equal(2, weights.WeightOf(WorkItemKind.Invoice, "email"));
        Assert.Equal(1, weights.WeightOf(WorkItemKind.DataEntry, null));
        Assert.Equal(2, weights.ChannelWeights["chat"]);
        Assert.Equal(2, weights.BackOfficeWeights[WorkItemKind.Invoice]);

        // The defaults are untouched by another instance's configuration.
        Assert.Equal(3, WorkWeights.Default.WeightOf(WorkItemKind.Conversation, "chat"));
    }

    [Fact]
    public void The_weight_of_a_candidate_reads_its_kind_and_channel()
    {
        Assert.Equal(3, WorkWeights.Default.WeightOf(Build.Item(1, channel: "chat")));
        Assert.Equal(1, WorkWeights.Default.WeightOf(Build.Item(2, kind: WorkItemKind.Invoice, channel: "chat")));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_weight_under_one_is_refused(int weight)
    {
        var channel = Assert.Throws<ArgumentException>(() => new WorkWeights(new Dictionary<string, int> { ["chat"] = weight }));
        Assert.Contains("at least 1", channel.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new WorkWeights(backOffice: new Dictionary<WorkItemKind, int> { [WorkItemKind.DataEntry] = weight }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void A_blank_channel_name_is_refused(string channel) =>
        Assert.Throws<ArgumentException>(() => new WorkWeights(new Dictionary<string, int> { [channel] = 1 }));

    [Fact]
    public void A_conversation_cannot_be_weighted_by_kind()
    {
        var error = Assert.Throws<ArgumentException>(() => new WorkWeights(backOffice: new Dictionary<WorkItemKind, int> { [WorkItemKind.Conversation] = 2 }));
        Assert.Contains("channel", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_that_is_not_a_kind_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new WorkWeights(backOffice: new Dictionary<WorkItemKind, int> { [(WorkItemKind)9] = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkWeights.Default.WeightOf((WorkItemKind)9, "email"));
    }
}
