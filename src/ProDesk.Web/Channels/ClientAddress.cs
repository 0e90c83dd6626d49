using System.Net;
using System.Net.Sockets;

namespace ProDesk.Web.Channels;

/// <summary>Who a public channel's limits count a request against.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The client's address; an IPv6 client by its /64, since one host may use any address in it (a limit per
    /// address would give it a fresh allowance with every connection).
    /// </summary>
    public static string Key(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }

        return address.ToString();
    }
}
