using System.Collections.Concurrent;
using ProDesk.Domain.WorkItems;

namespace ProDesk.Web.WorkItems;

/// <summary>
/// Claims that arrive together for the same tenants (and kind) share one PostgreSQL statement, as a database's group
/// commit shares one flush: at a desk's busiest moment hundreds of agents press "next" at once, and one statement
/// claiming twenty items costs PostgreSQL a fraction of twenty statements (round trips, executor start-up, commits,
/// and scans skipping each other's locked rows). An idle lane adds no wait: a claim leads at once while fewer than
/// a few statements (twice the cores) run for its lane; only beyond that does it wait, and whoever finishes
/// next hands the lead to the first in line, who claims for up to <see cref="MaxBatch"/> waiting claims. Every
/// statement runs on the leading request's own connection and row-level-security scope, which are the same tenants
/// as every other claim in its batch: the lane's key.
/// </summary>
public sealed class ClaimBatches
{
    /// <summary>Claims one statement makes at most.</summary>
    public const int MaxBatch = 32;

    private readonly ConcurrentDictionary<string, Lane> lanes = new(StringComparer.Ordinal);

    /// <summary>Statements one lane runs at once before claims queue: enough to keep a database's cores busy.</summary>
    private readonly int statementsInFlight;

    public ClaimBatches()
        : this(Math.Max(4, 2 * Environment.ProcessorCount))
    {
    }

    internal ClaimBatches(int statementsInFlight) => this.statementsInFlight = statementsInFlight;

    /// <summary>What a claim came back with: the item (null when none was left for it), or that its batch's statement failed.</summary>
    public sealed record Outcome(Claimed? Claimed, bool Failed);

    /// <summary>A claimed item and its tenant.</summary>
    public sealed record Claimed(WorkItemSummary Item, Guid TenantId);

    /// <summary>Either the claim was made for this request (<see cref="Outcome"/>), or it leads <see cref="Batch"/>, itself first.</summary>
    public sealed record Turn(Outcome? Outcome, IReadOnlyList<Claimant> Batch);

    /// <summary>One request for the next item.</summary>
    public sealed class Claimant(Guid agentId, string? actorName)
    {
        private readonly TaskCompletionSource<Turn> turn = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Guid AgentId { get; } = agentId;

        public string? ActorName { get; } = actorName;

        /// <summary>Set under the lane's lock when the caller gave up while waiting: nobody claims for it any more.</summary>
        internal bool Abandoned { get; set; }

        /// <summary>Set under the lane's lock when a batch takes it: its claim will be made.</summary>
        internal bool Taken { get; set; }

        internal Task<Turn> Turn => turn.Task;

        public void Complete(Outcome outcome) => turn.TrySetResult(new Turn(outcome, []));

        internal void Lead(IReadOnlyList<Claimant> batch) => turn.TrySetResult(new Turn(null, batch));

        internal void Cancel(CancellationToken cancellationToken) => turn.TrySetCanceled(cancellationToken);
    }

    /// <summary>The lane of claims for exactly these tenants (sorted) and this kind.</summary>
    public Lane LaneFor(IReadOnlyList<Guid> sortedTenantIds, WorkItemKind? kind) =>
        lanes.GetOrAdd($"{kind}|{string.Join(',', sortedTenantIds)}", _ => new Lane(statementsInFlight));

    public sealed class Lane(int statementsInFlight)
    {
        private readonly Lock gate = new();
        private readonly Queue<Claimant> waiting = new();
        private int running;

        /// <summary>
        /// Waits for this claim's turn: made by someone else's statement, or to lead a batch (then the caller must run
        /// it and call <see cref="Leave"/> afterwards, whatever happens).
        /// </summary>
        public async Task<Turn> JoinAsync(Claimant claimant, CancellationToken cancellationToken)
        {
            lock (gate)
            {
                if (running < statementsInFlight)
                {
                    running++;
                    return new Turn(null, TakeBatch(claimant));
                }

                waiting.Enqueue(claimant);
            }

            // Gone before its turn: nobody claims for it (a claim taken into a statement is made, as a lost answer's would be).
            await using var giveUp = cancellationToken.Register(() =>
            {
                lock (gate)
                {
                    if (!claimant.Taken)
                    {
                        claimant.Abandoned = true;
                        claimant.Cancel(cancellationToken);
                    }
                }
            });
            return await claimant.Turn;
        }

        /// <summary>A statement ended: the first claim in line leads the next one, or the lane has one statement fewer.</summary>
        public void Leave()
        {
            lock (gate)
            {
                while (waiting.TryDequeue(out var next))
                {
                    if (!next.Abandoned)
                    {
                        next.Lead(TakeBatch(next));
                        return;
                    }
                }

                running--;
            }
        }

        /// <summary>The leader, then up to <see cref="MaxBatch"/> - 1 claims in line. Under the lock.</summary>
        private List<Claimant> TakeBatch(Claimant leader)
        {
            leader.Taken = true;
            var batch = new List<Claimant>(Math.Min(MaxBatch, waiting.Count + 1)) { leader };
            while (batch.Count < MaxBatch && waiting.TryDequeue(out var next))
            {
                if (!next.Abandoned)
                {
                    next.Taken = true;
                    batch.Add(next);
                }
            }

            return batch;
        }
    }
}
