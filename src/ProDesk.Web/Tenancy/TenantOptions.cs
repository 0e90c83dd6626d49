using Microsoft.Extensions.Caching.Memory;

namespace ProDesk.Web.Tenancy;

/// <summary>
/// Options that differ per tenant (calendar, branding, limits), built from the tenant's record by
/// the configurators registered with <see cref="TenantOptionsExtensions.ConfigurePerTenant{TOptions}"/>
/// and cached under a key that starts with the tenant id.
/// </summary>
public interface ITenantOptions<out TOptions>
    where TOptions : class
{
    /// <summary>The options of the current tenant; throws outside a one-tenant scope.</summary>
    TOptions Value { get; }

    TOptions OfTenant(TenantInfo tenant);
}

internal sealed class TenantOptions<TOptions>(
    ITenantContext context,
    IMemoryCache cache,
    IEnumerable<TenantOptionsConfigurator<TOptions>> configurators) : ITenantOptions<TOptions>
    where TOptions : class, new()
{
    public TOptions Value => OfTenant(context.Current ?? throw new InvalidOperationException(
        $"{typeof(TOptions).Name} is per tenant, and the current scope ({context.Scope.Reason}) is not one tenant."));

    public TOptions OfTenant(TenantInfo tenant) =>
        // The TenantInfo record is part of the key, so a changed tenant gets fresh options.
        cache.GetOrCreate((tenant.Id, typeof(TOptions), tenant), entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = TenantStore.SnapshotLifetime * 2;
            var options = new TOptions();
            foreach (var configure in configurators)
            {
                configure.Configure(options, tenant);
            }

            return options;
        })!;
}

internal sealed class TenantOptionsConfigurator<TOptions>(Action<TOptions, TenantInfo> configure)
{
    public void Configure(TOptions options, TenantInfo tenant) => configure(options, tenant);
}

public static class TenantOptionsExtensions
{
    public static IServiceCollection ConfigurePerTenant<TOptions>(this IServiceCollection services, Action<TOptions, TenantInfo> configure)
        where TOptions : class, new()
    {
        services.AddSingleton(new TenantOptionsConfigurator<TOptions>(configure));
        services.AddSingleton<ITenantOptions<TOptions>, TenantOptions<TOptions>>();
        return services;
    }
}
