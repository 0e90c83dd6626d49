using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>How concurrent claims share statements: at once when a lane is idle, in line behind it when busy.</summary>
public sealed class ClaimBatchesTests
{
    private static readonly Guid[] Tenants = [Guid.Parse("00000000-0000-0000-0000-000000000001")];

    private static ClaimBatches.Claimant Claimant(string name) => new(Guid.NewGuid(), name);

    [Fact]
    public async Task An_idle_lane_lets_a_claim_run_at_once_and_a_busy_one_gathers_the_waiting_for_the_next_statement()
    {
        var lane = new ClaimBatches(statementsInFlight: 1).LaneFor(Tenants, null);
        var first = Claimant("first");
        var firstTurn = await lane.JoinAsync(first, CancellationToken.None);
        Assert.Null(firstTurn.Outcome);
        Assert.Equal([first], firstTurn.Batch);

        var second = Claimant("second");
        var third = Claimant("third");
        var secondTurn = lane.JoinAsync(second, CancellationToken.None);
        var thirdTurn = lane.JoinAsync(third, CancellationToken.None);
        Assert.False(secondTurn.IsCompleted);
        Assert.False(thirdTurn.IsCompleted);

        // The first statement ends: the first in line leads the next one, for everyone waiting.
        lane.Leave();
        var led = await secondTurn;
        Assert.Null(led.Outcome);
        Assert.Equal([second, third], led.Batch);
        Assert.False(thirdTurn.IsCompleted);
        third.Complete(new ClaimBatches.Outcome(null, Failed: false));
        Assert.Equal(new ClaimBatches.Outcome(null, false), (await thirdTurn).Outcome);

        // Nobody waiting when it ends: the lane is idle again and the next claim runs at once.
        lane.Leave();
        Assert.Null((await lane.JoinAsync(Claimant("fourth"), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task A_claim_given_up_while_waiting_is_not_made()
    {
        var lane = new ClaimBatches(statementsInFlight: 1).LaneFor(Tenants, null);
        await lane.JoinAsync(Claimant("running"), CancellationToken.None);
        using var gone = new CancellationTokenSource();
        var abandoned = lane.JoinAsync(Claimant("gone"), gone.Token);
        var next = Claimant("next");
        var nextTurn = lane.JoinAsync(next, CancellationToken.None);

        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        lane.Leave();
        Assert.Equal([next], (await nextTurn).Batch);
    }

    [Fact]
    public void Claims_for_other_tenants_or_another_kind_never_share_a_lane()
    {
        var batches = new ClaimBatches();
        var other = new[] { Guid.Parse("00000000-0000-0000-0000-000000000002") };
        Assert.Same(batches.LaneFor(Tenants, null), batches.LaneFor([.. Tenants], null));
        Assert.NotSame(batches.LaneFor(Tenants, null), batches.LaneFor(other, null));
        Assert.NotSame(batches.LaneFor(Tenants, null), batches.LaneFor([.. Tenants, .. other], null));
        Assert.NotSame(batches.LaneFor(Tenants, null), batches.LaneFor(Tenants, ProDesk.Domain.WorkItems.WorkItemKind.Invoice));
    }
}
