using System.Text;
using ProDesk.Domain.Channels.Chat;

namespace ProDesk.Domain.Tests.Channels.Chat;

public sealed class VisitorTokenTests
{
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("visitor-token-test-key-0123456789abcdef");
    private static readonly byte[] OtherKey = Encoding.ASCII.GetBytes("another-tenant-key-0123456789abcdefghij");
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);

    private static readonly VisitorSession Session = new(
        Guid.Parse("0a0a0a0a-1111-4111-8111-aaaaaaaaaaaa"), Guid.Parse("5e55105e-2222-4222-8222-bbbbbbbbbbbb"),
        Guid.Parse("f00dcafe-3333-4333-8333-cccccccccccc"), "Zoë Ångström", "zoe@example.org", Now);

    [Fact]
    public void Round_trips_tenant_session_item_name_email_and_time()
    {
        var token = VisitorToken.Create(Session, Key);

        Assert.True(VisitorToken.TryRead(token, Key, Now.AddDays(1), out var read));
        Assert.Equal(Session, read);
        Assert.Matches("^[A-Za-z0-9_-]+$", token);
    }

    [Fact]
    public void A_session_without_an_item_reads_back_without_one()
    {
        var token = VisitorToken.Create(Session with { ItemId = null }, Key);
        Assert.True(VisitorToken.TryRead(token, Key, Now, out var read));
        Assert.Null(read!.ItemId);
    }

    [Fact]
    public void Another_key_is_refused()
    {
        Assert.False(VisitorToken.TryRead(VisitorToken.Create(Session, OtherKey), Key, Now, out var read));
        Assert.Null(read);
    }

    [Fact]
    public void Every_changed_character_is_refused()
    {
        var token = VisitorToken.Create(Session, Key);
        for (var i = 0; i < token.Length; i++)
        {
            var changed = token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
            Assert.False(VisitorToken.TryRead(changed, Key, Now, out _), $"changed at {i}");
        }
    }

    [Fact]
    public void A_token_older_than_its_lifetime_or_from_the_future_is_refused()
    {
        var token = VisitorToken.Create(Session, Key);
        Assert.True(VisitorToken.TryRead(token, Key, Now + VisitorToken.Lifetime, out _));
        Assert.False(VisitorToken.TryRead(token, Key, Now + VisitorToken.Lifetime + TimeSpan.FromSeconds(1), out _));
        Assert.False(VisitorToken.TryRead(token, Key, Now - TimeSpan.FromHours(1), out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not a token")]
    [InlineData("AAAA")]
    [InlineData("garbage")]
    [InlineData("A")]
    [InlineData("AAAAA")]
    [InlineData("%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%")]
    public void Garbage_is_refused_without_throwing(string? token)
    {
        Assert.False(VisitorToken.TryRead(token, Key, Now, out _));
    }

    [Fact]
    public void Truncated_and_extended_tokens_are_refused()
    {
        var token = VisitorToken.Create(Session, Key);
        Assert.False(VisitorToken.TryRead(token[..^1], Key, Now, out _));
        Assert.False(VisitorToken.TryRead(token + "A", Key, Now, out _));
        Assert.False(VisitorToken.TryRead(new string('A', VisitorToken.MaxLength + 1), Key, Now, out _));
    }

    [Fact]
    public void A_short_key_is_a_configuration_bug()
    {
        Assert.Throws<ArgumentException>(() => VisitorToken.Create(Session, new byte[16]));
    }
}
