using ProDesk.Domain.Channels.Sms;

namespace ProDesk.Domain.Tests.Channels.Sms;

public sealed class SmsSegmentsTests
{
    [Fact]
    public void A_short_reply_is_one_message() =>
        Assert.Equal(["Your plumber comes at 10."], SmsSegments.Split("  Your plumber comes at 10.\n"));

    [Fact]
    public void A_long_reply_is_cut_at_word_boundaries_within_the_limit()
    {
        var body = string.Join(' ', Enumerable.Repeat("word", 1000)); // 4,999 characters
        var parts = SmsSegments.Split(body);
        Assert.All(parts, p => Assert.InRange(p.Length, 1, SmsSegments.MaxLength));
        Assert.All(parts, p => Assert.False(p.StartsWith(' ') || p.EndsWith(' ')));
        Assert.Equal(body, string.Join(' ', parts));
    }

    [Fact]
    public void Text_without_spaces_is_cut_hard_but_never_inside_a_surrogate_pair()
    {
        var body = new string('a', 9) + string.Concat(Enumerable.Repeat("😀", 10)); // 29 UTF-16 units
        var parts = SmsSegments.Split(body, 10);
        Assert.Equal("aaaaaaaaa", parts[0]);
        Assert.All(parts, p => Assert.False(char.IsHighSurrogate(p[^1])));
        Assert.Equal(body, string.Concat(parts));
    }
}
