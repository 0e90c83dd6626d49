using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using ProDesk.Domain.Security;

namespace ProDesk.Domain.Channels.Chat;

/// <summary>
/// What a web chat visitor's token says: whose widget (tenant), which browser session, the conversation
/// it has (none before its first message), and who the visitor said it is in the pre-chat form.
/// </summary>
/// <param name="SessionId">Random per pre-chat form: message ids are namespaced by it, so one visitor cannot collide with another's.</param>
/// <param name="ItemId">The work item the session's messages thread into; null until the first message created it.</param>
public sealed record VisitorSession(Guid TenantId, Guid SessionId, Guid? ItemId, string Name, string Email, DateTimeOffset IssuedAt);

/// <summary>
/// The signed token a chat visitor keeps (the widget stores it in the client page's localStorage) so a
/// reload resumes its conversation. Self-contained, so no session table: every hub call presents it and
/// it is checked against the connection's tenant and key.
/// </summary>
/// <remarks>
/// <para>Layout: version (1) + tenant id (16) + session id (16) + item id (16, zero for none) + issued at
/// (8, Unix seconds) + name and email (UTF-8, each after a 2-byte length), then the first 16 bytes of
/// HMAC-SHA256(key, "prodesk/chat-visitor/v1" + all of that); base64url without padding.</para>
/// <para>The tenant's reply-token key signs it; the label keeps these MACs from ever being valid for
/// anything else that key signs (reply addresses).</para>
/// <para>The token names the item it may see, never only an email address: anyone can type any address
/// into a pre-chat form, and must not thereby read that person's conversation.</para>
/// </remarks>
public static class VisitorToken
{
    /// <summary>How long a token is accepted after it was issued; every call that uses it issues a fresh one.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(30);

    public const int MaxNameLength = 100;

    public const int MaxEmailLength = 254;

    /// <summary>Longer input is refused before decoding.</summary>
    public const int MaxLength = 2048;

    private const byte Version = 1;
    private const int FixedLength = 1 + 16 + 16 + 16 + 8;
    private const int MacLength = 16;
    private static readonly byte[] Label = Encoding.ASCII.GetBytes("prodesk/chat-visitor/v1");

    /// <exception cref="ArgumentException">The key is shorter than 32 bytes, or the name or email is over its limit.</exception>
    public static string Create(VisitorSession session, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(session);
        RequireKey(key);
        if (session.Name.Length > MaxNameLength || session.Email.Length > MaxEmailLength)
        {
            throw new ArgumentException("Name or email over its limit.", nameof(session));
        }

        var name = Encoding.UTF8.GetBytes(session.Name);
        var email = Encoding.UTF8.GetBytes(session.Email);
        var payload = new byte[FixedLength + 2 + name.Length + 2 + email.Length + MacLength];
        var span = payload.AsSpan();
        span[0] = Version;
        session.TenantId.TryWriteBytes(span[1..17], bigEndian: true, out _);
        session.SessionId.TryWriteBytes(span[17..33], bigEndian: true, out _);
        (session.ItemId ?? Guid.Empty).TryWriteBytes(span[33..49], bigEndian: true, out _);
        BinaryPrimitives.WriteInt64BigEndian(span[49..57], session.IssuedAt.ToUnixTimeSeconds());
        var at = FixedLength;
        at = WriteText(span, at, name);
        at = WriteText(span, at, email);
        Mac(key, span[..at], span[at..]);
        return Base64Url.EncodeToString(payload);
    }

    /// <summary>
    /// The session a token names when it was made with <paramref name="key"/>, is intact and has not
    /// expired at <paramref name="now"/>. False for anything else; never throws on input.
    /// </summary>
    /// <exception cref="ArgumentException">The key is shorter than 32 bytes (a configuration bug).</exception>
    public static bool TryRead(string? token, ReadOnlySpan<byte> key, DateTimeOffset now, out VisitorSession? session)
    {
        RequireKey(key);
        session = null;
        // Base64Url's decoder throws on characters outside its alphabet; a token never has any.
        if (string.IsNullOrEmpty(token) || token.Length > MaxLength || !token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return false;
        }

        var payload = new byte[Base64Url.GetMaxDecodedLength(token.Length)];
        int written;
        try
        {
            // Despite its name it throws on some malformed input (a final quantum of one character, e.g. "garbage").
            if (!Base64Url.TryDecodeFromChars(token, payload, out written) || written < FixedLength + 4 + MacLength)
            {
                return false;
            }
        }
        catch (FormatException)
        {
            return false;
        }

        var span = payload.AsSpan(0, written);
        // One spelling per token: stray trailing bits or padding would make a second, equally valid one.
        if (!string.Equals(Base64Url.EncodeToString(span), token, StringComparison.Ordinal))
        {
            return false;
        }

        var signed = span[..^MacLength];
        Span<byte> expected = stackalloc byte[MacLength];
        Mac(key, signed, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, span[^MacLength..]) || signed[0] != Version)
        {
            return false;
        }

        var at = FixedLength;
        if (!TryReadText(signed, ref at, out var name) || !TryReadText(signed, ref at, out var email) || at != signed.Length)
        {
            return false;
        }

        var issued = BinaryPrimitives.ReadInt64BigEndian(signed[49..57]);
        if (issued < 0 || issued > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return false;
        }

        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(issued);
        // A token from the future (a clock step back) is refused as well as an old one.
        if (now < issuedAt - TimeSpan.FromMinutes(5) || now > issuedAt + Lifetime)
        {
            return false;
        }

        var item = new Guid(signed[33..49], bigEndian: true);
        session = new VisitorSession(
            new Guid(signed[1..17], bigEndian: true), new Guid(signed[17..33], bigEndian: true), item == Guid.Empty ? null : item, name, email, issuedAt);
        return true;
    }

    private static int WriteText(Span<byte> destination, int at, byte[] text)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination[at..], (ushort)text.Length);
        text.CopyTo(destination[(at + 2)..]);
        return at + 2 + text.Length;
    }

    private static bool TryReadText(ReadOnlySpan<byte> source, ref int at, out string text)
    {
        text = "";
        if (source.Length - at < 2)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(source[at..]);
        if (source.Length - at - 2 < length)
        {
            return false;
        }

        text = Encoding.UTF8.GetString(source.Slice(at + 2, length));
        at += 2 + length;
        return true;
    }

    private static void RequireKey(ReadOnlySpan<byte> key)
    {
        if (key.Length < 32)
        {
            throw new ArgumentException("A visitor-token key needs at least 32 bytes.", nameof(key));
        }
    }

    private static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, Span<byte> destination) =>
        LabelledMac.Compute(key, Label, payload, destination);
}
