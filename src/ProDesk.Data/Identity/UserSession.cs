namespace ProDesk.Data.Identity;

/// <summary>
/// A signed-in browser session, kept on the server: the sign-in cookie carries only a random key to it. Signing
/// out deletes the row, so a copy of the cookie taken before (a shared computer, a proxy log) signs in nobody.
/// The key is stored as its SHA-256 hash, like personal access tokens, so reading this table gives no session.
/// </summary>
public sealed class UserSession
{
    public required byte[] KeyHash { get; set; }

    /// <summary>Named in the session's claims, so what holds the principal (a hub connection) can ask if it still exists.</summary>
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    /// <summary>The serialized authentication ticket (claims and cookie properties) the cookie used to carry.</summary>
    public required byte[] Ticket { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }
}
