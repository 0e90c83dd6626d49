using Hangfire.Client;
using Hangfire.Server;

namespace ProDesk.Web.Tenancy;

/// <summary>
/// Carries the tenant into background jobs: a job created inside a one-tenant scope gets the
/// tenant id as a job parameter, and the worker restores that scope before the job runs and
/// leaves it afterwards. Jobs created outside one (system jobs) run unscoped and must enter a
/// named scope themselves.
/// </summary>
internal sealed class TenantJobFilter(ITenantStore store, TenantScopes scopes) : IClientFilter, IServerFilter
{
    public const string Parameter = "TenantId";
    private const string PreviousScopeKey = "ProDesk.PreviousTenantScope";

    public void OnCreating(CreatingContext context)
    {
        if (TenantContextAccessor.Current.Current is { } tenant)
        {
            context.SetJobParameter(Parameter, tenant.Id);
        }
    }

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context)
    {
        var id = context.GetJobParameter<Guid?>(Parameter, allowStale: true);
        if (id is null)
        {
            return;
        }

        // Hangfire filters are synchronous; the store answers from its cached snapshot.
        var tenant = store.FindByIdAsync(id.Value).AsTask().GetAwaiter().GetResult()
            ?? throw new InvalidOperationException($"Job {context.BackgroundJob.Id} belongs to tenant {id}, which no longer exists.");
        context.Items[PreviousScopeKey] = TenantScopes.Enter(scopes.ForTenant(tenant));
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(PreviousScopeKey, out var handle) && handle is IDisposable restore)
        {
            restore.Dispose();
        }
    }
}

/// <summary>Reads the ambient scope where no DI scope exists (Hangfire's client filter runs in the caller).</summary>
internal static class TenantContextAccessor
{
    private static readonly TenantContext Instance = new();

    public static ITenantContext Current => Instance;
}
