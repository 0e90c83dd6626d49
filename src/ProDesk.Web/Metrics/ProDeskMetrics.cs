using System.Diagnostics.Metrics;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;

namespace ProDesk.Web.Metrics;

/// <summary>
/// The desk's own instruments on the "ProDesk" meter, served at /metrics beside ASP.NET Core's request metrics:
/// SLA breaches and failed background passes as counters (since this process started, as Prometheus counters are),
/// and the wallboard's queue figures per tenant and queue as gauges, read from the database when /metrics is
/// scraped (<see cref="RefreshQueuesAsync"/>) rather than on a timer, so a desk nobody scrapes pays nothing for them.
/// </summary>
public sealed class ProDeskMetrics : IDisposable
{
    public const string MeterName = "ProDesk";

    private readonly Meter meter;
    private readonly Counter<long> slaBreaches;
    private readonly Counter<long> jobFailures;
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private IReadOnlyList<Wallboard.QueueLine> queues = [];
    private IReadOnlyList<Wallboard.MailboxLine> mailboxes = [];
    private int scrapes;

    public ProDeskMetrics(IMeterFactory meters)
    {
        meter = meters.Create(MeterName);
        slaBreaches = meter.CreateCounter<long>("prodesk.sla.breaches", "{item}", "Work items whose SLA target was breached, per tenant");
        jobFailures = meter.CreateCounter<long>("prodesk.job.failures", "{failure}", "Background jobs and passes that failed (each attempt), per job");
        meter.CreateObservableGauge("prodesk.queue.depth", () => Per(l => l.Open), "{item}", "Open work items per tenant and queue");
        meter.CreateObservableGauge("prodesk.queue.unassigned", () => Per(l => l.Unassigned), "{item}", "Open work items nobody is assigned to, per tenant and queue");
        meter.CreateObservableGauge("prodesk.queue.waiting", () => Per(l => l.Waiting), "{item}", "Pending and on-hold work items per tenant and queue");
        meter.CreateObservableGauge("prodesk.queue.breached", () => Per(l => l.Breached), "{item}", "Active work items that breached an SLA target, per tenant and queue");
        meter.CreateObservableGauge("prodesk.queue.oldest_open", () => queues.Select(l => new Measurement<double>(
            l.OldestOpen?.TotalSeconds ?? 0, new("tenant", l.Tenant), new("queue", l.Queue))), "s", "Age of the oldest open work item per tenant and queue");
        // A client's mail server refusing us stops that client's mail; the failure counter alone did not say whose.
        meter.CreateObservableGauge("prodesk.mailbox.failing", () => mailboxes.Select(m => new Measurement<long>(
            m.Error is null ? 0 : 1, new("tenant", m.Tenant), new("mailbox", m.Mailbox))), "{mailbox}", "1 while an enabled IMAP mailbox's last poll failed, per tenant and mailbox");
    }

    public void SlaBreached(string tenant, int items) => slaBreaches.Add(items, new KeyValuePair<string, object?>("tenant", tenant));

    public void JobFailed(string job) => jobFailures.Add(1, new KeyValuePair<string, object?>("job", job));

    /// <summary>A failure of a job that works for one tenant (watching its mailbox): labelled with the tenant, so an alert can say whose.</summary>
    public void JobFailed(string job, string tenant) =>
        jobFailures.Add(1, new KeyValuePair<string, object?>("job", job), new KeyValuePair<string, object?>("tenant", tenant));

    /// <summary>Reads every tenant's queue figures (the wallboard's, in a system scope); one read at a time however many scrape.</summary>
    public async Task RefreshQueuesAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref scrapes);
        await refreshing.WaitAsync(cancellationToken);
        try
        {
            using var system = TenantScopes.Enter(await services.GetRequiredService<TenantScopes>().ForSystemAsync("metrics", cancellationToken));
            var wallboard = services.GetRequiredService<Wallboard>();
            queues = (await wallboard.ReadQueuesAsync(cancellationToken)).ToList();
            mailboxes = (await wallboard.ReadMailboxesAsync(cancellationToken)).ToList();
        }
        finally
        {
            refreshing.Release();
        }
    }

    /// <summary>
    /// Drops the figures once their scrape is written: a gauge observed later (by another exporter, or by another host in
    /// the same process, whose listener sees every meter of this name) reports nothing rather than an old scrape's figures
    /// as current.
    /// </summary>
    public void ForgetQueues()
    {
        // The last of scrapes running at once drops them; the others are still writing theirs.
        if (Interlocked.Decrement(ref scrapes) == 0)
        {
            queues = [];
            mailboxes = [];
        }
    }

    public void Dispose()
    {
        refreshing.Dispose();
        meter.Dispose();
    }

    private IEnumerable<Measurement<long>> Per(Func<Wallboard.QueueLine, int> value) =>
        queues.Select(l => new Measurement<long>(value(l), new("tenant", l.Tenant), new("queue", l.Queue)));
}
