using ProDesk.Domain.Channels.Email;

namespace ProDesk.Domain.Tests.Channels.Email;

public sealed class ReplyAddressTests
{
    [Theory]
    [InlineData("marie@example.fr", "marie@example.fr")]
    [InlineData("Marie.Curie+billing@Example.FR", "marie.curie+billing@example.fr")]
    [InlineData("o'brien@mail.example.co.uk", "o'brien@mail.example.co.uk")]
    [InlineData("jose@exämple.com", "jose@xn--exmple-cua.com")]
    [InlineData("info@xn--mller-kva.de", "info@xn--mller-kva.de")]
    public void An_address_a_relay_can_deliver_to_is_kept_lower_cased_with_its_domain_in_ascii(string given, string kept) =>
        Assert.Equal(kept, ReplyAddress.Normalize(given));

    [Theory]
    [InlineData("a@b")]
    [InlineData("user@localhost")]
    [InlineData("a@[127.0.0.1]")]
    [InlineData("a@127.0.0.1")]
    [InlineData("a@-b.com")]
    [InlineData("a@b-.com")]
    [InlineData("a@b..com")]
    [InlineData("ünï@example.com")]
    [InlineData("\"quoted\"@example.com")]
    [InlineData(".a@example.com")]
    [InlineData("a..b@example.com")]
    [InlineData("a b@example.com")]
    [InlineData("Marie <marie@example.fr>")]
    [InlineData("a@example.com\r\nBcc: x@evil.test")]
    [InlineData("@example.com")]
    [InlineData("a@")]
    [InlineData("")]
    // 133 characters as typed, 278 once its domain is in ASCII: longer than any relay takes.
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@测试邮件地址长度检查域名.测试邮件地址长度检查域名.测试邮件地址长度检查域名.测试邮件地址长度检查域名.测试邮件地址长度检查域名.com")]
    public void Anything_else_is_refused(string given) =>
        Assert.Null(ReplyAddress.Normalize(given));
}
