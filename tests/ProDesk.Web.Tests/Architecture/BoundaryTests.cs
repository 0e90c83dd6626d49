using NetArchTest.Rules;

namespace ProDesk.Web.Tests.Architecture;

/// <summary>The boundaries of DESIGN.md, held by tests rather than by good intentions.</summary>
public sealed class BoundaryTests
{
    [Theory]
    [InlineData("Microsoft.EntityFrameworkCore")]
    [InlineData("Microsoft.AspNetCore")]
    [InlineData("Microsoft.Extensions")]
    [InlineData("Npgsql")]
    [InlineData("Hangfire")]
    public void The_domain_references_no_persistence_or_web_framework(string forbidden)
    {
        var result = Types.InAssembly(typeof(ProDesk.Domain.Tenancy.TenantSlug).Assembly).ShouldNot().HaveDependencyOn(forbidden).GetResult();
        Assert.True(result.IsSuccessful, $"ProDesk.Domain depends on {forbidden}: {string.Join(", ", result.FailingTypeNames ?? [])}");
        Assert.DoesNotContain(typeof(ProDesk.Domain.Tenancy.TenantSlug).Assembly.GetReferencedAssemblies(), a => a.Name!.StartsWith(forbidden, StringComparison.Ordinal));
    }

    [Fact]
    public void The_data_model_does_not_reach_up_into_the_host()
    {
        var result = Types.InAssembly(typeof(ProDesk.Data.ProDeskDbContext).Assembly).ShouldNot().HaveDependencyOn("ProDesk.Web").GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void Only_the_tenancy_feature_touches_the_ambient_tenant_scope()
    {
        // TenantScopes.Enter is the one audited door; features ask ITenantContext, they do not swap scopes.
        var result = Types.InAssembly(typeof(Program).Assembly)
            .That().DoNotResideInNamespace("ProDesk.Web.Tenancy")
            .And().DoNotResideInNamespace("ProDesk.Web.Data.Seeding")
            .ShouldNot().HaveDependencyOn("ProDesk.Web.Tenancy.TenantContext")
            .GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }
}
