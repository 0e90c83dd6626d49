namespace ProDesk.Web.Channels.Email;

/// <summary>
/// The message is too big, too deep, or not MIME we can read. The caller keeps the raw bytes in
/// quarantine with <see cref="Reason"/>; nothing of it reaches a work item.
/// </summary>
public sealed class UnparseableEmailException : Exception
{
    public UnparseableEmailException()
        : this("unparseable message")
    {
    }

    public UnparseableEmailException(string reason)
        : base(reason)
    {
        Reason = reason;
    }

    public UnparseableEmailException(string reason, Exception innerException)
        : base(reason, innerException)
    {
        Reason = reason;
    }

    /// <summary>Worded for the quarantine list, e.g. "MIME nesting deeper than 32 levels".</summary>
    public string Reason { get; }
}
