using System.Security.Cryptography;
using System.Text;
using ProDesk.Domain.Security;

namespace ProDesk.Domain.Channels.Email;

/// <summary>
/// A signed tag for reply addresses (<c>support+r-TOKEN@acme.test</c>) that names the tenant and
/// the work item a reply belongs to, so threading survives clients that drop <c>In-Reply-To</c>
/// and nobody can forge a reply into another item or tenant by editing the address.
/// </summary>
/// <remarks>
/// <para>Layout: tenant id (16 bytes) + item id (16 bytes, both big-endian RFC 4122 order) +
/// the first 10 bytes (80 bits) of HMAC-SHA256(key, "prodesk/reply-token/v1" + tenant + item),
/// as unpadded lowercase base32 (a-z, 2-7): always <see cref="Length"/> = 68 characters.</para>
/// <para>That makes the local part longer than the 64 octets RFC 5321 §4.5.3.1.1 sets as the
/// limit every receiver must accept. Common MTAs accept longer ones (GitHub's reply addresses
/// are longer still); the alternative, an opaque id looked up in the database, would cost a
/// table and a lookup. Kept self-contained on purpose.</para>
/// <para>Reading is case-insensitive, since mail systems may change the case of a local part;
/// the MAC covers the decoded bytes, so this adds no second valid form of a token.</para>
/// </remarks>
public static class ReplyToken
{
    /// <summary>The length of every token this class creates.</summary>
    public const int Length = 68;

    /// <summary>The smallest key accepted: one SHA-256 output, as RFC 2104 recommends.</summary>
    public const int MinKeyLength = 32;

    /// <summary>What precedes the token in the local part: <c>support+r-TOKEN@...</c>.</summary>
    public const string Tag = "+r-";

    private const int IdsLength = 32;
    private const int MacLength = 10;
    private const int PayloadLength = IdsLength + MacLength;
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    // Domain separation: the same key could sign other things one day without those MACs ever
    // being valid reply tokens.
    private static readonly byte[] Label = Encoding.ASCII.GetBytes("prodesk/reply-token/v1");

    /// <summary>A token naming <paramref name="itemId"/> in <paramref name="tenantId"/>, signed with <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException">The key is shorter than <see cref="MinKeyLength"/> bytes (a configuration bug).</exception>
    public static string Create(Guid tenantId, Guid itemId, ReadOnlySpan<byte> key)
    {
        RequireKey(key);
        Span<byte> payload = stackalloc byte[PayloadLength];
        WriteIds(tenantId, itemId, payload);
        Mac(key, payload[..IdsLength], payload[IdsLength..]);
        return Encode(payload);
    }

    /// <summary>
    /// The ids a token names, when it was made with <paramref name="key"/> and is intact. False for
    /// anything else (wrong length, stray characters, tampering, another key); never throws on input.
    /// </summary>
    /// <exception cref="ArgumentException">The key is shorter than <see cref="MinKeyLength"/> bytes (a configuration bug).</exception>
    public static bool TryRead(string? token, ReadOnlySpan<byte> key, out Guid tenantId, out Guid itemId)
    {
        RequireKey(key);
        tenantId = Guid.Empty;
        itemId = Guid.Empty;
        Span<byte> payload = stackalloc byte[PayloadLength];
        if (token is null || token.Length != Length || !TryDecode(token, payload))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        Mac(key, payload[..IdsLength], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, payload[IdsLength..]))
        {
            return false;
        }

        tenantId = new Guid(payload[..16], bigEndian: true);
        itemId = new Guid(payload[16..IdsLength], bigEndian: true);
        return true;
    }

    /// <summary>
    /// The support address with <c>+r-TOKEN</c> added at the end of its local part:
    /// <c>support@acme.test</c> gives <c>support+r-TOKEN@acme.test</c>. A tag already there is kept
    /// (<c>support+billing@</c> gives <c>support+billing+r-TOKEN@</c>); <see cref="TryFindToken"/>
    /// reads the <c>+r-</c> tag wherever it stands.
    /// </summary>
    /// <param name="supportAddress">A bare address (no display name), split at its last <c>@</c>.</param>
    /// <param name="token">A token from <see cref="Create"/>.</param>
    /// <exception cref="ArgumentException">The address has no local part or domain, or the token is not token-shaped.</exception>
    public static string ReplyAddress(string supportAddress, string token)
    {
        ArgumentNullException.ThrowIfNull(supportAddress);
        ArgumentNullException.ThrowIfNull(token);
        var at = supportAddress.LastIndexOf('@');
        if (at <= 0 || at == supportAddress.Length - 1)
        {
            throw new ArgumentException("Expected a bare address such as support@acme.test.", nameof(supportAddress));
        }

        if (!IsTokenShaped(token))
        {
            throw new ArgumentException($"Expected a {Length}-character token from {nameof(Create)}.", nameof(token));
        }

        return string.Concat(supportAddress.AsSpan(0, at), Tag, token.ToLowerInvariant(), supportAddress.AsSpan(at));
    }

    /// <summary>
    /// The first token-shaped <c>+r-</c> tag in the local part of any of <paramref name="addresses"/>
    /// (To, Cc, Delivered-To, ...), matched case-insensitively and returned lowercased. Only the
    /// shape is checked here; <see cref="TryRead"/> decides whether it is genuine.
    /// </summary>
    public static bool TryFindToken(IEnumerable<string> addresses, out string token)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        foreach (var raw in addresses)
        {
            var address = MailHeaderText.BareAddress(raw);
            var at = address.LastIndexOf('@');
            var local = at < 0 ? address : address[..at];
            var start = 0;
            while ((start = local.IndexOf(Tag, start, StringComparison.OrdinalIgnoreCase)) >= 0)
            {
                start += Tag.Length;
                var end = local.IndexOf('+', start);
                var candidate = end < 0 ? local[start..] : local[start..end];
                if (IsTokenShaped(candidate))
                {
                    token = candidate.ToLowerInvariant();
                    return true;
                }
            }
        }

        token = string.Empty;
        return false;
    }

    private static bool IsTokenShaped(string candidate)
    {
        Span<byte> scratch = stackalloc byte[PayloadLength];
        return candidate.Length == Length && TryDecode(candidate, scratch);
    }

    private static void RequireKey(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinKeyLength)
        {
            throw new ArgumentException($"A reply-token key needs at least {MinKeyLength} bytes.", nameof(key));
        }
    }

    private static void WriteIds(Guid tenantId, Guid itemId, Span<byte> destination)
    {
        tenantId.TryWriteBytes(destination[..16], bigEndian: true, out _);
        itemId.TryWriteBytes(destination[16..IdsLength], bigEndian: true, out _);
    }

    private static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> ids, Span<byte> destination) =>
        LabelledMac.Compute(key, Label, ids, destination);

    private static string Encode(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(Length);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = ((buffer << 8) | b) & 0xFFF;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                text.Append(Alphabet[(buffer >> bits) & 31]);
            }
        }

        if (bits > 0)
        {
            text.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        }

        return text.ToString();
    }

    // Expects exactly Length characters. Rejects unused trailing bits that are not zero, so each
    // payload has exactly one spelling (up to case).
    private static bool TryDecode(string text, Span<byte> destination)
    {
        int buffer = 0, bits = 0, written = 0;
        foreach (var c in text)
        {
            int value = c switch
            {
                >= 'a' and <= 'z' => c - 'a',
                >= 'A' and <= 'Z' => c - 'A',
                >= '2' and <= '7' => c - '2' + 26,
                _ => -1,
            };
            if (value < 0)
            {
                return false;
            }

            buffer = ((buffer << 5) | value) & 0xFFF;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                if (written == destination.Length)
                {
                    return false;
                }

                destination[written++] = (byte)(buffer >> bits);
            }
        }

        return written == destination.Length && (buffer & ((1 << bits) - 1)) == 0;
    }
}
