using System.Security.Cryptography;

namespace ProDesk.Domain.Security;

/// <summary>
/// The MAC behind every signed token we hand out (reply addresses, chat visitors, CSAT links):
/// HMAC-SHA256 over a fixed label and the payload, truncated to the destination's length. The label
/// separates the token kinds, so one tenant key can sign all of them without one kind's MAC ever
/// being valid as another's.
/// </summary>
public static class LabelledMac
{
    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> label, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        Span<byte> message = label.Length + payload.Length <= 512 ? stackalloc byte[label.Length + payload.Length] : new byte[label.Length + payload.Length];
        label.CopyTo(message);
        payload.CopyTo(message[label.Length..]);
        Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, message, full);
        full[..destination.Length].CopyTo(destination);
    }
}
