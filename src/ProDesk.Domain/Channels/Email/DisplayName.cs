namespace ProDesk.Domain.Channels.Email;

/// <summary>
/// A person's name for mail, or none: a sender who gives no display name is stored under their address, and that is no
/// name to greet them by ("Hello a2@x.example,") or to put in To (<c>"a2@x.example" &lt;a2@x.example&gt;</c>).
/// </summary>
public static class DisplayName
{
    /// <summary><paramref name="name"/> trimmed, or null when it is blank or only the address (in any case, quoted or bracketed).</summary>
    public static string? Of(string? name, string? address)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return null;
        }

        return IsAddress(trimmed, address) ? null : trimmed;
    }

    /// <summary>Whether <paramref name="name"/> is just <paramref name="address"/>: a name made from the address, not a person's.</summary>
    public static bool IsAddress(string? name, string? address) =>
        name is not null && address is { Length: > 0 }
        && string.Equals(name.Trim().Trim('"', '\'', '<', '>', ' '), address.Trim(), StringComparison.OrdinalIgnoreCase);
}
