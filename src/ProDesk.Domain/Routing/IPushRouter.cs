namespace ProDesk.Domain.Routing;

/// <summary>
/// A push mode: given an item and the agents of its queue, who gets it now. The supervisor picks
/// the mode per queue; both modes share the eligibility rule of <see cref="AgentProfile.CanBePushed"/>
/// (Online, serves the tenant, has the skills, has room for the item's weight).
/// </summary>
public interface IPushRouter
{
    /// <summary>
    /// The agent to assign <paramref name="item"/> to, or null when nobody is eligible now (the item
    /// stays queued, for pulling or for the next routing pass).
    /// </summary>
    AgentProfile? PickAgent(RoutingCandidate item, IEnumerable<AgentProfile> agents);
}
