namespace ProDesk.Data.Identity;

/// <summary>
/// A key of the OpenIddict server (signing or encryption), created once and shared by every node,
/// so tokens survive restarts and work across nodes. The private key is kept protected with the
/// data-protection key ring, itself in the database.
/// </summary>
public sealed class ServerKey
{
    /// <summary>"signing" or "encryption".</summary>
    public required string Purpose { get; set; }

    public required string ProtectedPrivateKey { get; set; }

    public DateTime CreatedAt { get; set; }
}
