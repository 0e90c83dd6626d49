using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// The recurring job (Jobs/RecurringJobs.cs, every minute) that polls every enabled mailbox of every
/// tenant, several at once. Reentrant: a mailbox already being polled on this node is skipped, and
/// mail taken twice by two nodes is found in the ledger.
/// </summary>
public sealed class MailboxPolling(IServiceScopeFactory scopes, MailboxPoller poller)
{
    /// <summary>Mailboxes polled at the same time.</summary>
    public const int Parallelism = 16;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var mailboxes = await EnabledAsync(scopes, "mailbox-polling", cancellationToken);
        await Parallel.ForEachAsync(mailboxes, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (entry, ct) => await poller.PollAsync(entry.Tenant, entry.Mailbox.Id, ct));
    }

    /// <summary>Every enabled mailbox with its tenant, read in a named system scope.</summary>
    public static async Task<List<(TenantInfo Tenant, Mailbox Mailbox)>> EnabledAsync(IServiceScopeFactory scopes, string reason, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var system = await services.GetRequiredService<TenantScopes>().ForSystemAsync(reason, cancellationToken);
        using var entered = TenantScopes.Enter(system);
        var mailboxes = await services.GetRequiredService<ProDeskDbContext>().Mailboxes.AsNoTracking().Where(m => m.Enabled).ToListAsync(cancellationToken);
        var tenants = system.Tenants.ToDictionary(t => t.Id);
        return [.. mailboxes.Where(m => tenants.ContainsKey(m.TenantId)).Select(m => (tenants[m.TenantId], m))];
    }
}
