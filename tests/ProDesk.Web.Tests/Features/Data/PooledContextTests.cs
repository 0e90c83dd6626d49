using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using ProDesk.Data;
using ProDesk.Migrations.Postgres;
using ProDesk.Web.Data;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Data;

/// <summary>
/// The app pools its DbContexts. A context returned with a connection opened by hand and never closed must
/// not make its next user hold a database connection for as long as it lives: a hub connection's request
/// lives for hours, and 32 of them once took every connection of a node (benchmark E, decision 38).
/// </summary>
public sealed class PooledContextTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task A_context_returned_with_a_connection_left_open_gives_its_next_user_a_connection_that_closes_after_each_query()
    {
        var connectionString = App.Services.GetRequiredService<DatabaseSettings>().ContextConnectionString;
        var options = (DbContextOptions<ProDeskDbContext>)PostgresProvider.Use(new DbContextOptionsBuilder<ProDeskDbContext>(), connectionString).Options;
        var pool = new PooledDbContextFactory<ProDeskDbContext>(options, poolSize: 1);

        await using (var forgetful = await pool.CreateDbContextAsync())
        {
            await forgetful.Database.OpenConnectionAsync();
            await forgetful.Tenants.AnyAsync();
        }

        await using var next = await pool.CreateDbContextAsync();
        await next.Tenants.AnyAsync();
        Assert.Equal(ConnectionState.Closed, next.Database.GetDbConnection().State);
    }
}
