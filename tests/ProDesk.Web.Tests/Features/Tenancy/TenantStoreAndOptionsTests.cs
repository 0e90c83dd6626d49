using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Tenants;
using ProDesk.Domain.Tenancy;
using ProDesk.Web.Sla;
using ProDesk.Web.Tenancy;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Tenancy;

public sealed class TenantStoreAndOptionsTests(ProDeskApp app) : PostgresTest(app)
{
    private ITenantStore Store => App.Services.GetRequiredService<ITenantStore>();

    [Fact]
    public async Task The_store_finds_tenants_by_slug_host_and_id()
    {
        var acme = await Store.FindBySlugAsync("acme");
        Assert.NotNull(acme);
        Assert.Equal("Acme Plomberie SAS", acme.Name);
        Assert.Equal("Europe/Paris", acme.TimeZone);
        Assert.Same(acme, await Store.FindByHostAsync("support.acme.test"));
        Assert.Same(acme, await Store.FindByHostAsync("Support.ACME.test"));
        Assert.Same(acme, await Store.FindByIdAsync(acme.Id));
        Assert.Null(await Store.FindBySlugAsync("Acme"));
        Assert.Null(await Store.FindByHostAsync("acme.test"));
    }

    [Fact]
    public async Task The_store_serves_a_cached_snapshot_until_invalidated()
    {
        _ = await Store.ListAsync();
        await using (var scope = App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
            db.Tenants.Add(new Tenant
            {
                Id = Guid.CreateVersion7(),
                Slug = "globex",
                Name = "Globex",
                TimeZone = "Europe/London",
                CalendarJson = """{"alwaysOpen":true}""",
                PlanJson = "{}",
                Hosts = [new TenantHost { Host = "help.globex.test" }],
            });
            await db.SaveChangesAsync();
        }

        Assert.Null(await Store.FindBySlugAsync("globex"));
        Store.Invalidate();
        Assert.Equal("Globex", (await Store.FindBySlugAsync("globex"))?.Name);
        Assert.Equal("globex", (await Store.FindByHostAsync("help.globex.test"))?.Slug);
    }

    [Fact]
    public async Task Per_tenant_options_follow_the_current_tenant()
    {
        var options = App.Services.GetRequiredService<ITenantOptions<TenantCalendarOptions>>();

        using (TenantScopes.Enter(await App.ScopeAsync("acme")))
        {
            Assert.Equal("Europe/Paris", options.Value.TimeZone.Id);
            Assert.Equal(2, options.Value.Hours.Spans(DayOfWeek.Monday).Count);
            Assert.Empty(options.Value.Hours.Spans(DayOfWeek.Sunday));
            Assert.Contains(new DateOnly(2026, 12, 25), options.Value.Holidays);
        }

        using (TenantScopes.Enter(await App.ScopeAsync("sla-lab")))
        {
            Assert.True(options.Value.Hours.IsAlwaysOpen);
        }

        var merlion = options.OfTenant(await App.TenantAsync("merlion"));
        Assert.Equal("Asia/Singapore", merlion.TimeZone.Id);
        Assert.Contains(merlion.Hours.Spans(DayOfWeek.Monday), s => s.IsOvernight);
    }

    [Fact]
    public async Task Per_tenant_options_refuse_a_scope_that_is_not_one_tenant()
    {
        var options = App.Services.GetRequiredService<ITenantOptions<TenantCalendarOptions>>();
        Assert.Throws<InvalidOperationException>(() => options.Value);
        using (TenantScopes.Enter(await App.ScopeAsync("acme", "northwind")))
        {
            Assert.Throws<InvalidOperationException>(() => options.Value);
        }
    }

    [Fact]
    public async Task Tenant_status_defaults_to_active()
    {
        Assert.All(await Store.ListAsync(), t => Assert.Equal(TenantStatus.Active, t.Status));
        await using var scope = App.Services.CreateAsyncScope();
        Assert.Equal(4, await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().Tenants.CountAsync());
    }
}
