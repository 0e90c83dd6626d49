using System.Text;
using ProDesk.Domain.Csat;

namespace ProDesk.Domain.Tests.Csat;

public sealed class CsatTokenTests
{
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("csat-token-test-key-0123456789abcdef");
    private static readonly byte[] OtherKey = Encoding.ASCII.GetBytes("another-tenant-key-0123456789abcdefgh");
    private static readonly Guid Tenant = Guid.Parse("0a0a0a0a-1111-4111-8111-aaaaaaaaaaaa");
    private static readonly Guid Item = Guid.Parse("f00dcafe-3333-4333-8333-cccccccccccc");

    [Fact]
    public void Round_trips_the_tenant_the_item_and_the_solve()
    {
        var token = CsatToken.Create(Tenant, Item, 3, Key);

        Assert.True(CsatToken.TryRead(token, Key, out var tenant, out var item, out var solve));
        Assert.Equal((Tenant, Item, 3), (tenant, item, solve));
        Assert.True(CsatToken.TryPeekTenant(token, out var peeked));
        Assert.Equal(Tenant, peeked);
    }

    [Fact]
    public void Is_url_safe_and_of_fixed_length()
    {
        foreach (var solve in new[] { 1, 2, int.MaxValue })
        {
            var token = CsatToken.Create(Guid.NewGuid(), Guid.NewGuid(), solve, Key);
            Assert.Equal(CsatToken.Length, token.Length);
            Assert.Matches("^[A-Za-z0-9_-]+$", token);
        }
    }

    [Fact]
    public void Another_key_another_solve_or_another_item_gives_another_token()
    {
        var token = CsatToken.Create(Tenant, Item, 1, Key);

        Assert.NotEqual(token, CsatToken.Create(Tenant, Item, 2, Key));
        Assert.NotEqual(token, CsatToken.Create(Tenant, Guid.NewGuid(), 1, Key));
        Assert.False(CsatToken.TryRead(CsatToken.Create(Tenant, Item, 1, OtherKey), Key, out _, out _, out _));
    }

    [Fact]
    public void Every_single_changed_character_is_refused()
    {
        var token = CsatToken.Create(Tenant, Item, 1, Key);
        for (var i = 0; i < token.Length; i++)
        {
            var replacement = token[i] == 'A' ? 'B' : 'A';
            var tampered = string.Concat(token.AsSpan(0, i), replacement.ToString(), token.AsSpan(i + 1));
            Assert.False(CsatToken.TryRead(tampered, Key, out var tenant, out _, out _), $"changed at {i}");
            Assert.Equal(Guid.Empty, tenant);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ")]
    [InlineData("======================================================================")]
    public void Garbage_is_refused_without_throwing(string? token)
    {
        Assert.False(CsatToken.TryRead(token, Key, out _, out _, out _));
        Assert.False(CsatToken.TryPeekTenant(token, out _));
    }

    [Fact]
    public void A_short_key_or_a_solve_below_one_is_a_programming_error()
    {
        Assert.Throws<ArgumentException>(() => CsatToken.Create(Tenant, Item, 1, new byte[16]));
        Assert.Throws<ArgumentOutOfRangeException>(() => CsatToken.Create(Tenant, Item, 0, Key));
    }
}
