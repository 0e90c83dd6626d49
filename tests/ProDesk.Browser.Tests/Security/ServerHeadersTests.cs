using System.Net.Sockets;
using System.Text;
using ProDesk.Browser.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProDesk.Browser.Tests.Security;

/// <summary>What the real Kestrel host sends on the wire, which the in-process test server does not show.</summary>
public sealed class ServerHeadersTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task A_head_request_gets_the_gets_headers_without_a_body_and_no_server_banner()
    {
        var address = Fixture.App.BaseAddress;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HEAD /openapi/v1.json HTTP/1.1\r\nHost: {address.Authority}\r\nConnection: close\r\n\r\n"));
        stream.ReadTimeout = 10_000;
        using var read = new MemoryStream();
        await stream.CopyToAsync(read);
        var answer = Encoding.ASCII.GetString(read.ToArray());

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/json", answer, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("\r\n\r\n", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("\r\nServer:", answer, StringComparison.OrdinalIgnoreCase);
    }
}
