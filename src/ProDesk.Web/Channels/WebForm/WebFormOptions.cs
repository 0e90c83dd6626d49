namespace ProDesk.Web.Channels.WebForm;

/// <summary>Limits of the public web form (section <c>WebForm</c>); the defaults are documented in the README.</summary>
public sealed class WebFormOptions
{
    /// <summary>Submissions one client IP may make per <see cref="LimitWindow"/>, across all tenants.</summary>
    public int PerIpLimit { get; set; } = 10;

    /// <summary>Submissions one tenant's form accepts per <see cref="LimitWindow"/>, from everyone together.</summary>
    public int PerTenantLimit { get; set; } = 300;

    public TimeSpan LimitWindow { get; set; } = TimeSpan.FromMinutes(10);

    public int MaxNameLength { get; set; } = 200;

    public int MaxSubjectLength { get; set; } = 200;

    public int MaxMessageLength { get; set; } = 10_000;

    public int MaxFiles { get; set; } = 5;

    public long MaxFileBytes { get; set; } = 10L * 1024 * 1024;

    /// <summary>The whole request, files included; a larger body is refused while it is read.</summary>
    public long MaxRequestBytes { get; set; } = 26L * 1024 * 1024;

    /// <summary>Without a <c>submissionId</c>, the same sender, subject and message within this window count as one submission.</summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(10);
}
