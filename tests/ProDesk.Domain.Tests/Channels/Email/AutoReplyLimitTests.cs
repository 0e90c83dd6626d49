using ProDesk.Domain.Channels.Email;

namespace ProDesk.Domain.Tests.Channels.Email;

public sealed class AutoReplyLimitTests
{
    private static readonly DateTime Now = new(2025, 3, 3, 12, 0, 0, DateTimeKind.Utc);

    private static DateTime[] MinutesAgo(params int[] minutes) => minutes.Select(m => Now.AddMinutes(-m)).ToArray();

    [Fact]
    public void Defaults_to_three_replies_per_hour()
    {
        var limit = new AutoReplyLimit();
        Assert.Equal(3, limit.MaxPerWindow);
        Assert.Equal(TimeSpan.FromHours(1), limit.Window);
    }

    [Fact]
    public void Allows_until_the_cap_is_reached_inside_the_window()
    {
        var limit = new AutoReplyLimit();
        Assert.True(limit.Allows([], Now));
        Assert.True(limit.Allows(MinutesAgo(1, 2), Now));
        Assert.False(limit.Allows(MinutesAgo(1, 2, 3), Now));
        Assert.False(limit.Allows(MinutesAgo(1, 2, 3, 4), Now));
    }

    [Fact]
    public void Replies_older_than_the_window_no_longer_count_and_the_boundary_is_outside()
    {
        var limit = new AutoReplyLimit();
        Assert.True(limit.Allows(MinutesAgo(10, 20, 60), Now));
        Assert.True(limit.Allows(MinutesAgo(61, 120, 600), Now));
        Assert.False(limit.Allows([.. MinutesAgo(10, 20), Now.AddMinutes(-60).AddTicks(1)], Now));
    }

    [Fact]
    public void Replies_stamped_in_the_future_by_a_skewed_clock_still_count() =>
        Assert.False(new AutoReplyLimit().Allows(MinutesAgo(-5, 1, 2), Now));

    [Fact]
    public void A_custom_cap_and_window_apply()
    {
        var limit = new AutoReplyLimit(1, TimeSpan.FromDays(1));
        Assert.True(limit.Allows(MinutesAgo(60 * 25), Now));
        Assert.False(limit.Allows(MinutesAgo(60 * 23), Now));
    }

    [Fact]
    public void A_cap_of_zero_turns_automatic_replies_off() => Assert.False(new AutoReplyLimit(0).Allows([], Now));

    [Fact]
    public void A_count_the_caller_made_of_replies_within_the_window_gets_the_same_answer()
    {
        var limit = new AutoReplyLimit();
        Assert.True(limit.Allows(0));
        Assert.True(limit.Allows(2));
        Assert.False(limit.Allows(3));
        Assert.False(new AutoReplyLimit(0).Allows(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => limit.Allows(-1));
    }

    [Fact]
    public void Refuses_nonsense_settings_and_local_times()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AutoReplyLimit(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AutoReplyLimit(3, TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => new AutoReplyLimit().Allows([], DateTime.SpecifyKind(Now, DateTimeKind.Local)));
        Assert.Throws<ArgumentException>(() => new AutoReplyLimit().Allows([DateTime.SpecifyKind(Now, DateTimeKind.Local)], Now));
    }

    [Fact]
    public void Repeats_of_one_mail_meet_the_tight_cap_and_distinct_mails_the_wide_one()
    {
        var limit = new AutoReplyLimit();
        Assert.True(limit.Allows(2, 9));
        Assert.False(limit.Allows(3, 3));
        Assert.False(limit.Allows(0, 10));
        Assert.Equal(10, limit.MaxDistinctPerWindow);
        Assert.Equal(5, new AutoReplyLimit(5, maxDistinctPerWindow: 2).MaxDistinctPerWindow);
    }

    [Fact]
    public void Mails_saying_the_same_thing_share_a_repeat_key_whatever_their_case_and_spacing()
    {
        Assert.Equal(AutoReplyLimit.RepeatKey("We received  your message.\r\nThank you"), AutoReplyLimit.RepeatKey(" we received your message.\nthank YOU "));
        Assert.NotEqual(AutoReplyLimit.RepeatKey("Boiler noise"), AutoReplyLimit.RepeatKey("Blocked drain"));
        Assert.Null(AutoReplyLimit.RepeatKey(" \n "));
    }
}
