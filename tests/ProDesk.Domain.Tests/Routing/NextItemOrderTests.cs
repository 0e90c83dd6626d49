using ProDesk.Domain.Routing;
using ProDesk.Domain.WorkItems;
using static ProDesk.Domain.Tests.Routing.Build;

namespace ProDesk.Domain.Tests.Routing;

public sealed class NextItemOrderTests
{
    private static readonly NextItemOrder Order = NextItemOrder.Instance;

    private static Guid[] Sorted(params RoutingCandidate[] items) => items.Order(Order).Select(i => i.Id).ToArray();

    [Fact]
    public void Higher_priority_goes_first_even_when_due_later_and_newer()
    {
        var normalDueSoon = Item(1, WorkItemPriority.Normal, due: T0.AddMinutes(5), created: T0.AddHours(-5));
        var urgentDueLate = Item(2, WorkItemPriority.Urgent, due: T0.AddDays(3), created: T0);
        var urgentNoDue = Item(3, WorkItemPriority.Urgent, due: null, created: T0.AddHours(1));
        Assert.Equal([Id(2), Id(3), Id(1)], Sorted(normalDueSoon, urgentNoDue, urgentDueLate));
    }

    [Fact]
    public void Every_priority_orders_by_rank()
    {
        var items = new[] { WorkItemPriority.Low, WorkItemPriority.Urgent, WorkItemPriority.Normal, WorkItemPriority.High }
            .Select((p, i) => Item(i, p)).ToArray();
        Assert.Equal(WorkItemPriorities.MostUrgentFirst, items.Order(Order).Select(i => i.Priority));
    }

    [Fact]
    public void Within_a_priority_the_earliest_deadline_goes_first()
    {
        var later = Item(1, due: T0.AddHours(2), created: T0.AddHours(-9));
        var sooner = Item(2, due: T0.AddHours(1), created: T0);
        Assert.Equal([Id(2), Id(1)], Sorted(later, sooner));
    }

    [Fact]
    public void An_item_without_a_deadline_goes_after_those_with_one_even_if_older()
    {
        var noDeadline = Item(1, due: null, created: T0.AddDays(-30));
        var farDeadline = Item(2, due: T0.AddYears(1), created: T0);
        Assert.Equal([Id(2), Id(1)], Sorted(noDeadline, farDeadline));
    }

    [Fact]
    public void Deadlines_compare_as_instants_whatever_their_offset()
    {
        var parisNineThirty = Item(1, due: new DateTimeOffset(2025, 3, 3, 9, 30, 0, TimeSpan.FromHours(1)));
        var utcNine = Item(2, due: new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));
        Assert.Equal([Id(1), Id(2)], Sorted(utcNine, parisNineThirty));
    }

    [Fact]
    public void Same_priority_and_deadline_the_oldest_goes_first()
    {
        var newer = Item(1, due: T0, created: T0.AddMinutes(-1));
        var older = Item(2, due: T0, created: T0.AddMinutes(-2));
        Assert.Equal([Id(2), Id(1)], Sorted(newer, older));
    }

    [Fact]
    public void Same_priority_both_without_deadline_the_oldest_goes_first()
    {
        var newer = Item(1, created: T0.AddMinutes(-1));
        var older = Item(2, created: T0.AddMinutes(-2));
        Assert.Equal([Id(2), Id(1)], Sorted(newer, older));
    }

    [Fact]
    public void When_everything_else_ties_the_id_decides()
    {
        var b = Item(0xB, due: T0, created: T0);
        var a = Item(0xA, due: T0, created: T0);
        Assert.Equal([Id(0xA), Id(0xB)], Sorted(b, a));
        Assert.True(Order.Compare(a, b) < 0);
        Assert.True(Order.Compare(b, a) > 0);
    }

    [Fact]
    public void Only_the_same_item_compares_equal()
    {
        var a = Item(1, due: T0);
        Assert.Equal(0, Order.Compare(a, a));
        Assert.Equal(0, Order.Compare(a, a with { }));
        Assert.NotEqual(0, Order.Compare(a, a with { Id = Id(2) }));
    }

    [Fact]
    public void Null_sorts_before_any_item_as_comparers_do()
    {
        var a = Item(1);
        Assert.Equal(0, Order.Compare(null, null));
        Assert.True(Order.Compare(null, a) < 0);
        Assert.True(Order.Compare(a, null) > 0);
    }

    [Fact]
    public void The_order_is_total_so_any_shuffle_sorts_the_same()
    {
        var priorities = Enum.GetValues<WorkItemPriority>();
        DateTimeOffset?[] dues = [null, T0, T0.AddHours(1)];
        var items = new List<RoutingCandidate>();
        var n = 0;
        foreach (var p in priorities)
        {
            foreach (var due in dues)
            {
                foreach (var created in new[] { T0.AddHours(-2), T0.AddHours(-1) })
                {
                    // Two items per combination: only the id tells them apart.
                    items.Add(Item(++n, p, due, created));
                    items.Add(Item(++n, p, due, created));
                }
            }
        }

        var expected = items.Order(Order).Select(i => i.Id).ToList();
        var random = new Random(20250303);
        for (var round = 0; round < 50; round++)
        {
            var shuffled = items.ToArray();
            random.Shuffle(shuffled);
            Array.Sort(shuffled, Order);
            Assert.Equal(expected, shuffled.Select(i => i.Id));
        }

        // Antisymmetric over every pair.
        foreach (var x in items)
        {
            foreach (var y in items)
            {
                Assert.Equal(Math.Sign(Order.Compare(x, y)), -Math.Sign(Order.Compare(y, x)));
            }
        }
    }

    [Fact]
    public void The_id_tie_break_follows_the_text_of_the_ids_as_sql_orders_them()
    {
        var random = new Random(7);
        var ids = Enumerable.Range(0, 500).Select(_ =>
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            return new Guid(bytes);
        }).ToList();

        var byComparer = ids.Order().ToList();
        var byText = ids.OrderBy(g => g.ToString(), StringComparer.Ordinal).ToList();
        Assert.Equal(byText, byComparer);
    }

    [Fact]
    public void Pick_next_takes_the_first_in_order()
    {
        var agent = Agent(1);
        var items = new[] { Item(1, WorkItemPriority.Normal), Item(2, WorkItemPriority.High, due: T0.AddHours(4)), Item(3, WorkItemPriority.High, due: T0.AddHours(1)) };
        Assert.Equal(Id(3), NextItemOrder.PickNext(items, agent)!.Id);
    }

    [Fact]
    public void Pick_next_skips_items_of_tenants_the_agent_does_not_serve()
    {
        var agent = Agent(1, tenants: [TenantA]);
        var urgentElsewhere = Item(1, WorkItemPriority.Urgent, tenant: TenantB);
        var lowHere = Item(2, WorkItemPriority.Low, tenant: TenantA);
        Assert.Equal(Id(2), NextItemOrder.PickNext([urgentElsewhere, lowHere], agent)!.Id);
        Assert.Null(NextItemOrder.PickNext([urgentElsewhere], agent));
    }

    [Fact]
    public void Pick_next_works_across_every_tenant_the_agent_serves()
    {
        var agent = Agent(1, tenants: [TenantA, TenantB]);
        var inA = Item(1, WorkItemPriority.Normal, tenant: TenantA);
        var inB = Item(2, WorkItemPriority.High, tenant: TenantB);
        Assert.Equal(Id(2), NextItemOrder.PickNext([inA, inB], agent)!.Id);
    }

    [Fact]
    public void Pick_next_skips_items_needing_a_skill_the_agent_lacks()
    {
        var agent = Agent(1, skills: ["en", "de"]);
        var french = Item(1, WorkItemPriority.Urgent, skills: ["fr"]);
        var germanInvoices = Item(2, WorkItemPriority.High, skills: ["de", "invoices"]);
        var german = Item(3, WorkItemPriority.Normal, skills: ["de"]);
        var anyone = Item(4, WorkItemPriority.Low);
        Assert.Equal(Id(3), NextItemOrder.PickNext([french, germanInvoices, german, anyone], agent)!.Id);
        Assert.Equal(Id(4), NextItemOrder.PickNext([french, germanInvoices, anyone], agent)!.Id);
    }

    [Fact]
    public void Skills_match_whatever_their_case()
    {
        var agent = Agent(1, skills: ["FR"]);
        Assert.Equal(Id(1), NextItemOrder.PickNext([Item(1, skills: ["fr"])], agent)!.Id);
    }

    [Fact]
    public void Pick_next_is_null_when_nothing_qualifies_or_nothing_waits()
    {
        var agent = Agent(1, skills: ["en"]);
        Assert.Null(NextItemOrder.PickNext([], agent));
        Assert.Null(NextItemOrder.PickNext([Item(1, skills: ["fr"]), Item(2, tenant: TenantB)], agent));
    }

    [Fact]
    public void Pulling_ignores_presence_and_capacity_because_the_agent_asked()
    {
        var awayAndFull = Agent(1, capacity: 1, load: 1, status: AgentStatus.Away);
        Assert.Equal(Id(1), NextItemOrder.PickNext([Item(1, channel: "chat")], awayAndFull)!.Id);
    }

    [Fact]
    public void Pick_next_agrees_with_sorting_the_eligible_items()
    {
        var agent = Agent(1, tenants: [TenantA], skills: ["fr"]);
        var random = new Random(11);
        var items = Enumerable.Range(1, 200).Select(i => Item(
            i,
            (WorkItemPriority)random.Next(4),
            random.Next(3) == 0 ? null : T0.AddMinutes(random.Next(100)),
            T0.AddMinutes(-random.Next(100)),
            random.Next(4) == 0 ? TenantB : TenantA,
            skills: random.Next(3) == 0 ? ["fr"] : random.Next(2) == 0 ? ["de"] : [])).ToList();

        var expected = items.Where(agent.CanPull).Order(Order).First();
        Assert.Same(expected, NextItemOrder.PickNext(items, agent));
    }
}
