using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// Whether two mailbox set-ups reach the same IMAP account, however they were typed. Comparing the host as typed let
/// <c>localhost</c> and <c>127.0.0.1</c> (or a second port, a trailing dot, a login without its domain) poll one
/// account for two tenants, and one client's customers' mail landed, acknowledged, in another client's desk (probe
/// round 20). A server is the same when the names are equal once normalised or when the addresses they resolve to
/// meet (every loopback address is one machine); the port is not part of the account (993 and 143 are two doors to
/// it); a login is the same when equal ignoring case, or when one is the other's local part without a domain. Wrongly
/// calling two accounts one costs a 409 the admin can read; the other mistake leaks mail between clients.
/// </summary>
public static class MailboxAccount
{
    /// <summary>How long a set-up waits for a name to resolve; a name that does not resolve is compared by its spelling only.</summary>
    private static readonly TimeSpan ResolveLimit = TimeSpan.FromSeconds(3);

    /// <summary>Lower case, no surrounding space, no root dot, no IPv6 brackets, an IDN in punycode.</summary>
    public static string Host(string host)
    {
        var name = host.Trim().TrimEnd('.').Trim('[', ']').ToLowerInvariant();
        if (IPAddress.TryParse(name, out var address))
        {
            return Normal(address).ToString();
        }

        try
        {
            return new IdnMapping().GetAscii(name);
        }
        catch (ArgumentException)
        {
            return name;
        }
    }

    /// <summary>The addresses <paramref name="host"/> (normalised) stands for now; empty when it does not resolve in time.</summary>
    public static async Task<IReadOnlySet<IPAddress>> AddressesAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return new HashSet<IPAddress> { Normal(literal) };
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(ResolveLimit);
        try
        {
            return (await Dns.GetHostAddressesAsync(host, limit.Token)).Select(Normal).ToHashSet();
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new HashSet<IPAddress>();
        }
    }

    public static bool SameServer(string hostA, IReadOnlySet<IPAddress> addressesA, string hostB, IReadOnlySet<IPAddress> addressesB) =>
        hostA == hostB || addressesA.Overlaps(addressesB);

    /// <summary>Equal ignoring case, or one is the other's local part (servers with a default domain take <c>desk</c> for <c>desk@domain</c>).</summary>
    public static bool SameLogin(string a, string b)
    {
        var (x, y) = (a.Trim().ToLowerInvariant(), b.Trim().ToLowerInvariant());
        return x == y || (!x.Contains('@', StringComparison.Ordinal) && y.StartsWith(x + "@", StringComparison.Ordinal))
            || (!y.Contains('@', StringComparison.Ordinal) && x.StartsWith(y + "@", StringComparison.Ordinal));
    }

    /// <summary>An IPv4-mapped IPv6 address as IPv4, and every loopback address as 127.0.0.1 (the same machine).</summary>
    private static IPAddress Normal(IPAddress address)
    {
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return IPAddress.IsLoopback(plain) ? IPAddress.Loopback : plain;
    }
}
