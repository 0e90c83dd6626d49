using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Contacts;
using ProDesk.Data.Tenancy;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Tenancy;

/// <summary>The first wall: the named query filter confines reads, the save guard confines writes.</summary>
public sealed class TenantGuardTests(ProDeskApp app) : PostgresTest(app)
{
    private static Contact NewContact(string name, Guid tenantId = default) =>
        new() { Id = Guid.CreateVersion7(), TenantId = tenantId, Name = name, Email = $"{Guid.NewGuid():N}@example.test" };

    private async Task AddContactsAsync(string slug, params string[] names) =>
        await App.InTenantAsync(slug, async db =>
        {
            db.Contacts.AddRange(names.Select(n => NewContact(n)));
            return await db.SaveChangesAsync();
        });

    private Task<List<string>> NamesAsync(string slug) =>
        App.InTenantAsync(slug, db => db.Contacts.OrderBy(c => c.Name).Select(c => c.Name).ToListAsync());

    [Fact]
    public async Task Reads_see_only_the_current_tenants_rows()
    {
        await AddContactsAsync("acme", "Amélie", "Bastien");
        await AddContactsAsync("northwind", "Nora", "Ned", "Nate");

        Assert.Equal(["Amélie", "Bastien"], await NamesAsync("acme"));
        Assert.Equal(["Nate", "Ned", "Nora"], await NamesAsync("northwind"));
        Assert.Empty(await NamesAsync("merlion"));
    }

    [Fact]
    public async Task Without_a_tenant_scope_nothing_is_visible()
    {
        await AddContactsAsync("acme", "Amélie");
        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        Assert.Equal(0, await db.Contacts.CountAsync());
    }

    [Fact]
    public async Task A_scope_of_several_tenants_sees_exactly_those_tenants()
    {
        await AddContactsAsync("acme", "Amélie");
        await AddContactsAsync("northwind", "Nora");
        await AddContactsAsync("merlion", "Mei");

        var scope = await App.ScopeAsync("acme", "northwind");
        var names = await App.InScopeAsync(scope, db => db.Contacts.OrderBy(c => c.Name).Select(c => c.Name).ToListAsync());
        Assert.Equal(["Amélie", "Nora"], names);
    }

    [Fact]
    public async Task New_rows_are_stamped_with_the_current_tenant()
    {
        var acme = await App.TenantAsync("acme");
        var contact = NewContact("Amélie");
        await App.InTenantAsync("acme", async db =>
        {
            db.Contacts.Add(contact);
            return await db.SaveChangesAsync();
        });

        Assert.Equal(acme.Id, contact.TenantId);
        Assert.Equal(["Amélie"], await NamesAsync("acme"));
    }

    [Fact]
    public async Task Inserting_a_row_for_another_tenant_is_refused_and_nothing_is_written()
    {
        var northwind = await App.TenantAsync("northwind");
        var error = await Assert.ThrowsAsync<CrossTenantWriteException>(() => App.InTenantAsync("acme", async db =>
        {
            db.Contacts.Add(NewContact("Intruder", northwind.Id));
            return await db.SaveChangesAsync();
        }));

        Assert.Contains("outside the current tenant scope", error.Message, StringComparison.Ordinal);
        Assert.Empty(await NamesAsync("northwind"));
        Assert.Empty(await NamesAsync("acme"));
    }

    [Fact]
    public async Task Moving_a_row_to_another_tenant_is_refused()
    {
        await AddContactsAsync("acme", "Amélie");
        var northwind = await App.TenantAsync("northwind");
        await Assert.ThrowsAsync<CrossTenantWriteException>(() => App.InTenantAsync("acme", async db =>
        {
            var contact = await db.Contacts.SingleAsync();
            contact.TenantId = northwind.Id;
            return await db.SaveChangesAsync();
        }));

        Assert.Equal(["Amélie"], await NamesAsync("acme"));
    }

    [Fact]
    public async Task Changing_or_deleting_a_row_loaded_in_another_scope_is_refused()
    {
        await AddContactsAsync("northwind", "Nora");
        var northwindScope = await App.ScopeAsync("northwind");
        var acmeScope = await App.ScopeAsync("acme");

        await using var services = App.Services.CreateAsyncScope();
        var db = services.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        Contact nora;
        using (ProDesk.Web.Tenancy.TenantScopes.Enter(northwindScope))
        {
            nora = await db.Contacts.SingleAsync();
        }

        using (ProDesk.Web.Tenancy.TenantScopes.Enter(acmeScope))
        {
            nora.Name = "Hijacked";
            await Assert.ThrowsAsync<CrossTenantWriteException>(() => db.SaveChangesAsync());
            db.Entry(nora).State = EntityState.Deleted;
            await Assert.ThrowsAsync<CrossTenantWriteException>(() => db.SaveChangesAsync());
        }

        Assert.Equal(["Nora"], await NamesAsync("northwind"));
    }

    [Fact]
    public async Task A_new_row_without_a_tenant_in_a_multi_tenant_scope_is_refused()
    {
        var scope = await App.ScopeAsync("acme", "northwind");
        var error = await Assert.ThrowsAsync<CrossTenantWriteException>(() => App.InScopeAsync(scope, async db =>
        {
            db.Contacts.Add(NewContact("Who owns me"));
            return await db.SaveChangesAsync();
        }));
        Assert.Contains("spans 2 tenants", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unique_indexes_on_tenant_owned_tables_start_with_the_tenant()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var model = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().Model;
        var offenders = model.GetEntityTypes()
            .Where(e => typeof(ProDesk.Domain.Tenancy.ITenantOwned).IsAssignableFrom(e.ClrType))
            .SelectMany(e => e.GetIndexes().Where(i => i.IsUnique).Select(i => (e.ClrType.Name, First: i.Properties[0].Name)))
            .Where(x => x.First != nameof(ProDesk.Domain.Tenancy.ITenantOwned.TenantId))
            .ToList();
        Assert.Empty(offenders);
    }
}
