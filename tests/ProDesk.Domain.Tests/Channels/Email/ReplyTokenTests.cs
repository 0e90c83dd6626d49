using System.Text;
using ProDesk.Domain.Channels.Email;

namespace ProDesk.Domain.Tests.Channels.Email;

public sealed class ReplyTokenTests
{
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("reply-token-test-key-0123456789abcdef");
    private static readonly byte[] OtherKey = Encoding.ASCII.GetBytes("another-tenant-key-0123456789abcdefgh");

    private static readonly Guid TenantA = Guid.Parse("0a0a0a0a-1111-4111-8111-aaaaaaaaaaaa");
    private static readonly Guid TenantB = Guid.Parse("0b0b0b0b-2222-4222-8222-bbbbbbbbbbbb");
    private static readonly Guid ItemOfA = Guid.Parse("f00dcafe-3333-4333-8333-cccccccccccc");

    private static bool Reads(string? token, byte[]? key = null) => ReplyToken.TryRead(token, key ?? Key, out _, out _);

    [Fact]
    public void Round_trips_the_tenant_and_the_item()
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);

        Assert.True(ReplyToken.TryRead(token, Key, out var tenant, out var item));
        Assert.Equal(TenantA, tenant);
        Assert.Equal(ItemOfA, item);
    }

    [Fact]
    public void Is_a_fixed_length_of_lowercase_letters_and_digits_only()
    {
        foreach (var (tenant, item) in new[] { (TenantA, ItemOfA), (Guid.Empty, Guid.Empty), (TenantB, Guid.NewGuid()) })
        {
            var token = ReplyToken.Create(tenant, item, Key);
            Assert.Equal(ReplyToken.Length, token.Length);
            Assert.Matches("^[a-z0-9]+$", token);
        }
    }

    [Fact]
    public void Differs_for_another_item_another_tenant_and_another_key()
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        Assert.NotEqual(token, ReplyToken.Create(TenantB, ItemOfA, Key));
        Assert.NotEqual(token, ReplyToken.Create(TenantA, Guid.NewGuid(), Key));
        Assert.NotEqual(token, ReplyToken.Create(TenantA, ItemOfA, OtherKey));
    }

    [Fact]
    public void A_token_made_with_another_key_is_refused()
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, OtherKey);
        Assert.False(ReplyToken.TryRead(token, Key, out var tenant, out var item));
        Assert.Equal(Guid.Empty, tenant);
        Assert.Equal(Guid.Empty, item);
    }

    [Fact]
    public void Every_single_changed_character_is_refused()
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        for (var i = 0; i < token.Length; i++)
        {
            var chars = token.ToCharArray();
            chars[i] = chars[i] == 'a' ? 'b' : 'a';
            Assert.False(Reads(new string(chars)), $"changed character at {i} was accepted");
        }
    }

    [Fact]
    public void Swapping_in_another_tenants_id_is_refused()
    {
        // The first 16 bytes (25.6 characters) carry the tenant: take them from a token for tenant B
        // and keep the rest (item and MAC) from tenant A's token. Character 25 mixes both ids, so
        // splice at 26 and also at 25 to cover both ways of cutting.
        var ofA = ReplyToken.Create(TenantA, ItemOfA, Key);
        var ofB = ReplyToken.Create(TenantB, ItemOfA, Key);
        Assert.False(Reads(ofB[..25] + ofA[25..]));
        Assert.False(Reads(ofB[..26] + ofA[26..]));
        Assert.False(Reads(ofA[..52] + ofB[52..]));
        Assert.True(Reads(ofB));
    }

    [Fact]
    public void Reading_ignores_case_since_mail_systems_may_change_it()
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        Assert.True(ReplyToken.TryRead(token.ToUpperInvariant(), Key, out var tenant, out var item));
        Assert.Equal((TenantA, ItemOfA), (tenant, item));
    }

    [Fact]
    public void Unused_trailing_bits_must_be_zero_so_a_token_has_one_spelling()
    {
        // 42 bytes fill 67.2 characters; the last character carries 1 bit and 4 zero bits.
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        var last = "abcdefghijklmnopqrstuvwxyz234567".IndexOf(token[^1], StringComparison.Ordinal);
        var sameBitPlusPadding = "abcdefghijklmnopqrstuvwxyz234567"[last | 1];
        Assert.False(Reads(token[..^1] + sameBitPlusPadding));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("r-")]
    [InlineData("r-abc")]
    public void Malformed_input_is_refused(string? token) => Assert.False(Reads(token));

    [Theory]
    [InlineData('0')]
    [InlineData('1')]
    [InlineData('8')]
    [InlineData('=')]
    [InlineData('+')]
    [InlineData('\u00e9')]
    public void A_right_length_token_with_a_character_outside_base32_is_refused(char stray)
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        Assert.False(Reads(new string(stray, ReplyToken.Length)));
        Assert.False(Reads(token[..30] + stray + token[31..]));
    }

    [Fact]
    public void Truncated_padded_and_huge_tokens_are_refused()
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        Assert.False(Reads(token[..^1]));
        Assert.False(Reads(token[..40]));
        Assert.False(Reads(token + "a"));
        Assert.False(Reads(token + "="));
        Assert.False(Reads(" " + token));
        Assert.False(Reads(new string('a', 1_000_000)));
        Assert.False(Reads(string.Concat(Enumerable.Repeat(token, 1000))));
    }

    [Fact]
    public void A_short_key_is_a_configuration_error()
    {
        Assert.Throws<ArgumentException>(() => ReplyToken.Create(TenantA, ItemOfA, new byte[ReplyToken.MinKeyLength - 1]));
        Assert.Throws<ArgumentException>(() => ReplyToken.TryRead("x", [], out _, out _));
    }

    [Theory]
    [InlineData("support@acme.test", "support+r-{0}@acme.test")]
    [InlineData("help.desk@mail.acme.test", "help.desk+r-{0}@mail.acme.test")]
    [InlineData("support+billing@acme.test", "support+billing+r-{0}@acme.test")]
    [InlineData("\"odd@name\"@acme.test", "\"odd@name\"+r-{0}@acme.test")]
    public void The_reply_address_puts_the_tag_at_the_end_of_the_local_part(string support, string expected)
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, token), ReplyToken.ReplyAddress(support, token));
    }

    [Theory]
    [InlineData("support")]
    [InlineData("@acme.test")]
    [InlineData("support@")]
    public void The_reply_address_needs_a_bare_address(string support) =>
        Assert.Throws<ArgumentException>(() => ReplyToken.ReplyAddress(support, ReplyToken.Create(TenantA, ItemOfA, Key)));

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("has+plus")]
    public void The_reply_address_needs_a_real_token(string token) =>
        Assert.Throws<ArgumentException>(() => ReplyToken.ReplyAddress("support@acme.test", token));

    [Fact]
    public void Finds_the_token_among_recipients_and_it_reads_back()
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        string[] recipients = ["someone@else.test", "Acme Support <" + ReplyToken.ReplyAddress("support+billing@acme.test", token) + ">"];

        Assert.True(ReplyToken.TryFindToken(recipients, out var found));
        Assert.Equal(token, found);
        Assert.True(ReplyToken.TryRead(found, Key, out var tenant, out var item));
        Assert.Equal((TenantA, ItemOfA), (tenant, item));
    }

    [Fact]
    public void Finds_a_token_whose_case_a_mail_system_changed_and_returns_it_lowercased()
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        var shouted = ReplyToken.ReplyAddress("support@acme.test", token).ToUpperInvariant();
        Assert.Contains("+R-", shouted, StringComparison.Ordinal);

        Assert.True(ReplyToken.TryFindToken([shouted], out var found));
        Assert.Equal(token, found);
    }

    [Fact]
    public void Skips_tags_that_are_not_token_shaped_and_keeps_looking()
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        string[] recipients = ["support+r-short@acme.test", "x+r-" + token + "1@acme.test", ReplyToken.ReplyAddress("support@acme.test", token)];
        Assert.True(ReplyToken.TryFindToken(recipients, out var found));
        Assert.Equal(token, found);
    }

    [Fact]
    public void Finds_nothing_without_a_tag()
    {
        Assert.False(ReplyToken.TryFindToken(["support@acme.test", "support+billing@acme.test", "", "r-abc@acme.test"], out var found));
        Assert.Equal(string.Empty, found);
        Assert.False(ReplyToken.TryFindToken([], out _));
    }

    [Fact]
    public void A_tag_in_the_domain_is_not_a_token()
    {
        var token = ReplyToken.Create(TenantA, ItemOfA, Key);
        Assert.False(ReplyToken.TryFindToken(["support@x+r-" + token], out _));
    }
}
