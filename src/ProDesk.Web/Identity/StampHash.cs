using System.Security.Cryptography;
using System.Text;

namespace ProDesk.Web.Identity;

/// <summary>
/// What an OAuth access token carries of its user's security stamp: a hash, so that a long-lived hub
/// connection opened with the token can tell the user changed (Realtime/HubSessions) while the stamp
/// itself stays server-side.
/// </summary>
public static class StampHash
{
    public const string ClaimType = "stamp_hash";

    public static string Of(string? stamp) =>
        System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(stamp ?? "")).AsSpan(0, 16));
}
