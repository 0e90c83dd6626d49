namespace ProDesk.Data.Identity;

/// <summary>
/// A personal access token (<c>pdk_...</c>): shown once, stored only as a SHA-256 hash (tokens are
/// long random strings, so a fast hash is enough and keeps per-request checks cheap).
/// </summary>
public sealed class PersonalAccessToken
{
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    public required string Name { get; set; }

    /// <summary>The first characters after <c>pdk_</c>, so a user can tell tokens apart.</summary>
    public required string Prefix { get; set; }

    public required byte[] Hash { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? LastUsedAt { get; set; }

    public DateTime? RevokedAt { get; set; }
}
