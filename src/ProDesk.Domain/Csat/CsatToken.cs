using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using ProDesk.Domain.Security;

namespace ProDesk.Domain.Csat;

/// <summary>
/// The token in a satisfaction-rating link (<c>/csat/TOKEN/5</c>): names the tenant, the item and
/// which solve of the item it asks about, signed with the tenant's key, so a customer can rate
/// without signing in and nobody can rate another item, another solve or another tenant's item by
/// editing the link.
/// </summary>
/// <remarks>
/// <para>Layout: tenant id (16 bytes) + item id (16 bytes, both big-endian RFC 4122 order) + solve
/// number (4 bytes, big-endian) + the first 16 bytes (128 bits) of HMAC-SHA256(key,
/// "prodesk/csat-token/v1" + the 36 bytes before it), as unpadded base64url: always
/// <see cref="Length"/> = 70 characters.</para>
/// <para>The tenant id is readable without the key (<see cref="TryPeekTenant"/>): the key is the
/// tenant's own, so the reader must know which tenant to ask for it. The label keeps these MACs
/// apart from reply tokens made with the same key. The MAC is longer than a reply token's since
/// the link is public and may be tried online without a mailbox in between.</para>
/// </remarks>
public static class CsatToken
{
    public const int Length = 70;

    public const int MinKeyLength = 32;

    private const int PayloadLength = 36;
    private const int MacLength = 16;
    private const int TokenBytes = PayloadLength + MacLength;

    private static readonly byte[] Label = Encoding.ASCII.GetBytes("prodesk/csat-token/v1");

    /// <summary>A token for the <paramref name="solve"/>-th solve (from 1) of <paramref name="itemId"/> in <paramref name="tenantId"/>.</summary>
    /// <exception cref="ArgumentException">The key is shorter than <see cref="MinKeyLength"/> bytes (a configuration bug).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="solve"/> is less than 1.</exception>
    public static string Create(Guid tenantId, Guid itemId, int solve, ReadOnlySpan<byte> key)
    {
        RequireKey(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(solve, 1);
        Span<byte> bytes = stackalloc byte[TokenBytes];
        tenantId.TryWriteBytes(bytes[..16], bigEndian: true, out _);
        itemId.TryWriteBytes(bytes[16..32], bigEndian: true, out _);
        BinaryPrimitives.WriteInt32BigEndian(bytes[32..PayloadLength], solve);
        Mac(key, bytes[..PayloadLength], bytes[PayloadLength..]);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The tenant a token claims to be for, unverified: only to find the key that <see cref="TryRead"/> checks it with.</summary>
    public static bool TryPeekTenant(string? token, out Guid tenantId)
    {
        tenantId = Guid.Empty;
        Span<byte> bytes = stackalloc byte[TokenBytes];
        if (!TryDecode(token, bytes))
        {
            return false;
        }

        tenantId = new Guid(bytes[..16], bigEndian: true);
        return true;
    }

    /// <summary>
    /// What a token names, when it was made with <paramref name="key"/> and is intact. False for
    /// anything else (wrong length or alphabet, tampering, another key); never throws on input.
    /// </summary>
    /// <exception cref="ArgumentException">The key is shorter than <see cref="MinKeyLength"/> bytes (a configuration bug).</exception>
    public static bool TryRead(string? token, ReadOnlySpan<byte> key, out Guid tenantId, out Guid itemId, out int solve)
    {
        RequireKey(key);
        tenantId = Guid.Empty;
        itemId = Guid.Empty;
        solve = 0;
        Span<byte> bytes = stackalloc byte[TokenBytes];
        if (!TryDecode(token, bytes))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        Mac(key, bytes[..PayloadLength], expected);
        var number = BinaryPrimitives.ReadInt32BigEndian(bytes[32..PayloadLength]);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes[PayloadLength..]) || number < 1)
        {
            return false;
        }

        tenantId = new Guid(bytes[..16], bigEndian: true);
        itemId = new Guid(bytes[16..32], bigEndian: true);
        solve = number;
        return true;
    }

    // Exactly Length characters of the base64url alphabet that decode to exactly TokenBytes bytes;
    // the decoder also refuses non-zero unused bits, so each token has one spelling.
    private static bool TryDecode(string? token, Span<byte> destination)
    {
        if (token is null || token.Length != Length)
        {
            return false;
        }

        foreach (var c in token)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        try
        {
            return Base64Url.TryDecodeFromChars(token, destination, out var written) && written == TokenBytes
                && Base64Url.EncodeToString(destination).Equals(token, StringComparison.Ordinal);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static void RequireKey(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinKeyLength)
        {
            throw new ArgumentException($"A CSAT token key needs at least {MinKeyLength} bytes.", nameof(key));
        }
    }

    private static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, Span<byte> destination) =>
        LabelledMac.Compute(key, Label, payload, destination);
}
