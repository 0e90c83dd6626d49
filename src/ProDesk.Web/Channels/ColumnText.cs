namespace ProDesk.Web.Channels;

/// <summary>
/// Text written by senders and remote servers (subjects, names, addresses, error messages) is cut
/// to its column when stored, never refused for its length: a 998-character subject is a real mail.
/// </summary>
public static class ColumnText
{
    public static string Fit(string value, int length) => value.Length <= length ? value : value[..length];
}
