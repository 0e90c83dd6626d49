using ProDesk.Domain.Channels.WebForm;

namespace ProDesk.Domain.Tests.Channels.WebForm;

public sealed class ReturnUrlTests
{
    private static readonly string[] Hosts = ["acme.prodesk.test", "support.acme.test", "localhost:5080"];

    [Theory]
    [InlineData("https://support.acme.test/thanks?from=form", "https://support.acme.test/thanks?from=form")]
    [InlineData("http://ACME.prodesk.test/", "http://acme.prodesk.test/")]
    [InlineData("http://localhost:5080/t/acme", "http://localhost:5080/t/acme")]
    [InlineData("https://support.acme.test/a b", "https://support.acme.test/a%20b")]
    public void The_tenants_own_hosts_are_allowed(string value, string sent) =>
        Assert.Equal(sent, ReturnUrl.Allowed(value, Hosts)?.AbsoluteUri);

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/thanks")]
    [InlineData("https://support.acme.test.evil.example/")]
    [InlineData("https://evil.example/?https://support.acme.test/")]
    [InlineData("https://support.acme.test@evil.example/")]
    [InlineData("https://user:pw@support.acme.test/")]
    [InlineData("javascript:alert(1)//support.acme.test")]
    [InlineData("ftp://support.acme.test/")]
    [InlineData("http://localhost:8080/")]
    [InlineData("https://support.acme.test/\r\nSet-Cookie: a=b")]
    [InlineData("")]
    [InlineData(null)]
    public void Anything_else_is_refused(string? value) =>
        Assert.Null(ReturnUrl.Allowed(value, Hosts));
}
