using Microsoft.EntityFrameworkCore;
using ProDesk.Data.WorkItems;
using ProDesk.Web.Realtime;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Realtime;

/// <summary>The outbox does not grow forever: published events go after the retention period; unpublished ones stay.</summary>
public sealed class OutboxPruningTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task Events_published_more_than_a_week_ago_are_deleted_in_every_tenant_and_the_rest_are_kept()
    {
        var now = App.Services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var kept = new List<string>();
        foreach (var slug in new[] { "acme", "northwind" })
        {
            await App.InTenantAsync(slug, async db =>
            {
                var tenantId = (await App.TenantAsync(slug)).Id;
                db.OutboxEvents.AddRange(
                    Event(tenantId, $"{slug}-old-published", now.AddDays(-30), now.AddDays(-8)),
                    Event(tenantId, $"{slug}-recent-published", now.AddDays(-30), now.AddDays(-6)),
                    Event(tenantId, $"{slug}-old-unpublished", now.AddDays(-30), null));
                return await db.SaveChangesAsync();
            });
            kept.AddRange([$"{slug}-recent-published", $"{slug}-old-unpublished"]);
        }

        int deleted;
        await using (var scope = App.Services.CreateAsyncScope())
        {
            deleted = await scope.ServiceProvider.GetRequiredService<OutboxPruning>().RunAsync(CancellationToken.None);
        }

        Assert.Equal(2, deleted);
        var left = await App.InScopeAsync(await App.ScopeAsync("acme", "northwind"), db => db.OutboxEvents.Where(e => e.Type.EndsWith("published")).Select(e => e.Type).ToListAsync());
        Assert.Equal(kept.Order(), left.Order());
    }

    private static OutboxEvent Event(Guid tenantId, string type, DateTime createdAt, DateTime? publishedAt) =>
        new() { TenantId = tenantId, Type = type, PayloadJson = "{}", CreatedAt = createdAt, PublishedAt = publishedAt };
}
