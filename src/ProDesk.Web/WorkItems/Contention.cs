namespace ProDesk.Web.WorkItems;

/// <summary>
/// Writers that lost an optimistic-concurrency race on one item try again after a short random pause, growing with
/// each attempt: ten agents saving at once would otherwise collide again in the same order, and the last would run out
/// of attempts. A real-time pause on purpose: it spreads out racing requests, it measures nothing.
/// </summary>
internal static class Contention
{
    public static Task BackOffAsync(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(Random.Shared.Next(1, 4 << Math.Clamp(attempt, 1, 5)), cancellationToken);
}
