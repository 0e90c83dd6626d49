namespace ProDesk.Web.Channels.Email;

/// <summary>
/// The SMTP relay all tenants' mail leaves through (section "Smtp"). Without a host, mail is written
/// as .eml files to <see cref="PickupDirectory"/> (default data/mail-outbox), so the embedded default
/// runs without a mail server and a newcomer can read what would have been sent.
/// </summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 25;

    /// <summary>None, StartTls, StartTlsWhenAvailable, SslOnConnect or Auto (MailKit's SecureSocketOptions).</summary>
    public string Security { get; set; } = "StartTlsWhenAvailable";

    public string? UserName { get; set; }

    public string? Password { get; set; }

    public string? PickupDirectory { get; set; }

    /// <summary>The right-hand side of our Message-IDs.</summary>
    public string MessageIdDomain { get; set; } = "prodesk.mail";
}
