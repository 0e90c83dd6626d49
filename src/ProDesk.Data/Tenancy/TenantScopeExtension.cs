using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ProDesk.Data.Tenancy;

/// <summary>
/// Carries the tenant scope (<see cref="ICurrentTenantIds"/>, a singleton that reads the ambient scope)
/// in the context's options rather than its constructor, so the host can pool contexts: EF Core pools
/// only a context whose one constructor takes its options. Options without it see no tenant at all.
/// </summary>
public sealed class TenantScopeExtension(ICurrentTenantIds tenantIds) : IDbContextOptionsExtension
{
    public ICurrentTenantIds TenantIds { get; } = tenantIds;

    public DbContextOptionsExtensionInfo Info => new ExtensionInfo(this);

    public void ApplyServices(IServiceCollection services)
    {
    }

    public void Validate(IDbContextOptions options)
    {
    }

    private sealed class ExtensionInfo(IDbContextOptionsExtension extension) : DbContextOptionsExtensionInfo(extension)
    {
        public override bool IsDatabaseProvider => false;

        public override string LogFragment => "TenantScope ";

        // The scope changes no internal service: every context shares one internal service provider.
        public override int GetServiceProviderHashCode() => 0;

        public override bool ShouldUseSameServiceProvider(DbContextOptionsExtensionInfo other) => other is ExtensionInfo;

        public override void PopulateDebugInfo(IDictionary<string, string> debugInfo)
        {
        }
    }
}

public static class TenantScopeOptions
{
    /// <summary>Scopes every context built from these options to <paramref name="tenantIds"/>.</summary>
    public static DbContextOptionsBuilder UseTenantScope(this DbContextOptionsBuilder options, ICurrentTenantIds tenantIds)
    {
        ((IDbContextOptionsBuilderInfrastructure)options).AddOrUpdateExtension(new TenantScopeExtension(tenantIds));
        return options;
    }
}
