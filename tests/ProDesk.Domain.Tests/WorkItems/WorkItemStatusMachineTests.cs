using ProDesk.Domain.WorkItems;

namespace ProDesk.Domain.Tests.WorkItems;

public sealed class WorkItemStatusMachineTests
{
    private const WorkItemStatus Open = WorkItemStatus.Open;
    private const WorkItemStatus Pending = WorkItemStatus.Pending;
    private const WorkItemStatus OnHold = WorkItemStatus.OnHold;
    private const WorkItemStatus Solved = WorkItemStatus.Solved;
    private const WorkItemStatus Closed = WorkItemStatus.Closed;

    /// <summary>The moves the product allows, written out by hand so the table in the code is checked against it.</summary>
    public static TheoryData<WorkItemStatus, WorkItemStatus> AllowedMoves => new()
    {
        { Open, Pending }, { Open, OnHold }, { Open, Solved },
        { Pending, Open }, { Pending, OnHold }, { Pending, Solved },
        { OnHold, Open }, { OnHold, Pending }, { OnHold, Solved },
        { Solved, Open }, { Solved, Closed },
    };

    /// <summary>Every other pair of different statuses, leaving Closed aside (it has its own message).</summary>
    public static TheoryData<WorkItemStatus, WorkItemStatus> RefusedMovesFromLiveStatuses => new()
    {
        { Open, Closed },
        { Pending, Closed },
        { OnHold, Closed },
        { Solved, Pending }, { Solved, OnHold },
    };

    public static TheoryData<WorkItemStatus> AllStatuses => new(Enum.GetValues<WorkItemStatus>());

    public static TheoryData<WorkItemStatus> AllButClosed => new(Enum.GetValues<WorkItemStatus>().Where(s => s != Closed));

    [Theory]
    [MemberData(nameof(AllowedMoves))]
    public void An_allowed_move_is_a_change(WorkItemStatus from, WorkItemStatus to)
    {
        Assert.True(WorkItemStatusMachine.CanMove(from, to));
        Assert.Contains(to, WorkItemStatusMachine.MovesFrom(from));
        var change = WorkItemStatusMachine.TryMove(from, to, out var error);
        Assert.Null(error);
        Assert.Equal(new StatusChange(from, to), change);
        Assert.Equal($"{from} → {to}", change!.ToString());
    }

    [Theory]
    [MemberData(nameof(RefusedMovesFromLiveStatuses))]
    public void A_refused_move_names_both_statuses_and_what_is_allowed_instead(WorkItemStatus from, WorkItemStatus to)
    {
        Assert.False(WorkItemStatusMachine.CanMove(from, to));
        Assert.DoesNotContain(to, WorkItemStatusMachine.MovesFrom(from));
        Assert.Null(WorkItemStatusMachine.TryMove(from, to, out var error));
        Assert.StartsWith($"{from} → {to} is not allowed; from {from}, an item can move to ", error, StringComparison.Ordinal);
        Assert.All(WorkItemStatusMachine.MovesFrom(from), allowed => Assert.Contains(allowed.ToString(), error, StringComparison.Ordinal));
    }

    [Fact]
    public void A_refusal_lists_the_allowed_moves_in_plain_words()
    {
        WorkItemStatusMachine.TryMove(Solved, Pending, out var fromSolved);
        Assert.Equal("Solved → Pending is not allowed; from Solved, an item can move to Open or Closed", fromSolved);
        WorkItemStatusMachine.TryMove(Open, Closed, out var fromOpen);
        Assert.Equal("Open → Closed is not allowed; from Open, an item can move to Pending, OnHold or Solved", fromOpen);
    }

    [Theory]
    [MemberData(nameof(AllStatuses))]
    public void Staying_in_the_same_status_is_not_a_move(WorkItemStatus status)
    {
        Assert.False(WorkItemStatusMachine.CanMove(status, status));
        Assert.DoesNotContain(status, WorkItemStatusMachine.MovesFrom(status));
        Assert.Null(WorkItemStatusMachine.TryMove(status, status, out var error));
        Assert.Equal($"{status} → {status} is not a change", error);
    }

    [Theory]
    [MemberData(nameof(AllButClosed))]
    public void A_closed_item_cannot_change_status_and_points_to_a_follow_up(WorkItemStatus to)
    {
        Assert.False(WorkItemStatusMachine.CanMove(Closed, to));
        Assert.Null(WorkItemStatusMachine.TryMove(Closed, to, out var error));
        Assert.Equal("a Closed item cannot change status; a new message starts a follow-up item", error);
    }

    [Fact]
    public void The_table_is_exactly_the_allowed_moves_and_nothing_else()
    {
        var allowed = AllowedMoves.Select(row => ((WorkItemStatus)row[0], (WorkItemStatus)row[1])).ToHashSet();
        var statuses = Enum.GetValues<WorkItemStatus>();
        foreach (var from in statuses)
        {
            foreach (var to in statuses)
            {
                Assert.Equal(allowed.Contains((from, to)), WorkItemStatusMachine.CanMove(from, to));
                Assert.Equal(allowed.Contains((from, to)), WorkItemStatusMachine.TryMove(from, to, out _) is not null);
            }
        }

        Assert.Equal(11, statuses.Sum(s => WorkItemStatusMachine.MovesFrom(s).Count));
    }

    [Fact]
    public void Moves_are_listed_in_declaration_order_and_closed_has_none()
    {
        Assert.Equal([Pending, OnHold, Solved], WorkItemStatusMachine.MovesFrom(Open));
        Assert.Equal([Open, OnHold, Solved], WorkItemStatusMachine.MovesFrom(Pending));
        Assert.Equal([Open, Pending, Solved], WorkItemStatusMachine.MovesFrom(OnHold));
        Assert.Equal([Open, Closed], WorkItemStatusMachine.MovesFrom(Solved));
        Assert.Empty(WorkItemStatusMachine.MovesFrom(Closed));
    }

    [Fact]
    public void The_list_of_moves_cannot_be_altered_by_a_caller()
    {
        var moves = WorkItemStatusMachine.MovesFrom(Open);
        Assert.False(moves is WorkItemStatus[]);
        if (moves is ICollection<WorkItemStatus> collection)
        {
            Assert.True(collection.IsReadOnly);
        }
    }

    [Fact]
    public void Only_a_solved_item_can_be_closed_and_every_live_status_can_reach_closed_through_solved()
    {
        Assert.Equal([Solved], Enum.GetValues<WorkItemStatus>().Where(s => WorkItemStatusMachine.CanMove(s, Closed)));
        Assert.All([Open, Pending, OnHold], live => Assert.True(WorkItemStatusMachine.CanMove(live, Solved)));
    }

    [Theory]
    [InlineData(Open, false)]
    [InlineData(Pending, false)]
    [InlineData(OnHold, false)]
    [InlineData(Solved, false)]
    [InlineData(Closed, true)]
    public void Only_closed_is_terminal(WorkItemStatus status, bool terminal)
    {
        Assert.Equal(terminal, WorkItemStatusMachine.IsTerminal(status));
        Assert.Equal(terminal, WorkItemStatusMachine.MovesFrom(status).Count == 0);
    }

    [Theory]
    [InlineData(Open, true)]
    [InlineData(Pending, true)]
    [InlineData(OnHold, true)]
    [InlineData(Solved, false)]
    [InlineData(Closed, false)]
    public void Open_pending_and_on_hold_are_active_work(WorkItemStatus status, bool active) =>
        Assert.Equal(active, WorkItemStatusMachine.IsActive(status));

    [Theory]
    [InlineData(Open, false)]
    [InlineData(Pending, true)]
    [InlineData(OnHold, true)]
    [InlineData(Solved, false)]
    [InlineData(Closed, false)]
    public void Pending_and_on_hold_wait_on_others_so_the_sla_clock_pauses(WorkItemStatus status, bool waits) =>
        Assert.Equal(waits, WorkItemStatusMachine.WaitsOnOthers(status));

    [Theory]
    [InlineData(Open, Open)]
    [InlineData(Pending, Open)]
    [InlineData(OnHold, Open)]
    [InlineData(Solved, Open)]
    [InlineData(Closed, Closed)]
    public void A_customer_message_reopens_everything_but_a_closed_item(WorkItemStatus before, WorkItemStatus after) =>
        Assert.Equal(after, WorkItemStatusMachine.AfterCustomerMessage(before));

    [Theory]
    [MemberData(nameof(AllStatuses))]
    public void What_a_customer_message_does_is_always_no_change_or_an_allowed_move(WorkItemStatus before)
    {
        var after = WorkItemStatusMachine.AfterCustomerMessage(before);
        Assert.True(after == before || WorkItemStatusMachine.CanMove(before, after));
    }

    [Fact]
    public void A_closed_item_stays_closed_on_a_customer_message_so_the_caller_starts_a_follow_up()
    {
        var after = WorkItemStatusMachine.AfterCustomerMessage(Closed);
        Assert.True(WorkItemStatusMachine.IsTerminal(after));
    }

    [Theory]
    [InlineData(Open, Pending, true, false)]
    [InlineData(Open, OnHold, true, false)]
    [InlineData(Pending, Open, false, true)]
    [InlineData(OnHold, Solved, false, true)]
    [InlineData(Pending, OnHold, false, false)]
    [InlineData(Open, Solved, false, false)]
    [InlineData(Solved, Open, false, false)]
    public void A_change_says_whether_it_starts_or_ends_a_wait_on_others(WorkItemStatus from, WorkItemStatus to, bool starts, bool stops)
    {
        var change = WorkItemStatusMachine.TryMove(from, to, out _)!;
        Assert.Equal(starts, change.StartsWaitingOnOthers);
        Assert.Equal(stops, change.StopsWaitingOnOthers);
    }

    [Fact]
    public void Only_solved_to_open_is_a_reopen()
    {
        var reopens = AllowedMoves.Select(row => new StatusChange((WorkItemStatus)row[0], (WorkItemStatus)row[1])).Where(c => c.IsReopen);
        Assert.Equal([new StatusChange(Solved, Open)], reopens);
    }

    [Fact]
    public void A_value_that_is_not_a_status_is_refused_not_guessed()
    {
        var bogus = (WorkItemStatus)42;
        Assert.Null(WorkItemStatusMachine.TryMove(Open, bogus, out var error));
        Assert.Equal("42 is not a work item status", error);
        Assert.Null(WorkItemStatusMachine.TryMove(bogus, Open, out error));
        Assert.Equal("42 is not a work item status", error);
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkItemStatusMachine.MovesFrom(bogus));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkItemStatusMachine.CanMove(bogus, Open));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkItemStatusMachine.IsTerminal(bogus));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkItemStatusMachine.IsActive(bogus));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkItemStatusMachine.WaitsOnOthers(bogus));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkItemStatusMachine.AfterCustomerMessage(bogus));
    }

    [Fact]
    public void Stored_values_are_stable()
    {
        Assert.Equal([0, 1, 2, 3, 4], new[] { Open, Pending, OnHold, Solved, Closed }.Select(s => (int)s));
        Assert.Equal([0, 1, 2, 3], new[] { WorkItemKind.Conversation, WorkItemKind.SecretaryTask, WorkItemKind.Invoice, WorkItemKind.DataEntry }.Select(k => (int)k));
    }
}
