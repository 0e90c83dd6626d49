namespace ProDesk.Domain.Routing;

/// <summary>
/// An agent's presence, as the console reports it. Only Online agents are pushed work; Away and
/// Offline agents keep what they hold. Offline is the zero value so an agent whose status was never
/// set is never pushed anything. Values are explicit because they are stored.
/// </summary>
public enum AgentStatus
{
    /// <summary>At the console and taking work.</summary>
    Online = 1,

    /// <summary>Signed in but not taking new work (break, meeting, wrap-up).</summary>
    Away = 2,

    /// <summary>Not signed in, or signed out.</summary>
    Offline = 0,
}
