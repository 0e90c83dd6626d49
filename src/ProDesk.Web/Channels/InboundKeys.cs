using System.Security.Cryptography;
using System.Text;

namespace ProDesk.Web.Channels;

/// <summary>The tenant's inbound key is a bearer secret: only its hash is stored, compared in constant time.</summary>
public static class InboundKeys
{
    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static bool Matches(string? presented, byte[] storedHash) =>
        !string.IsNullOrEmpty(presented) && presented.Length <= 512 && CryptographicOperations.FixedTimeEquals(Hash(presented), storedHash);
}
