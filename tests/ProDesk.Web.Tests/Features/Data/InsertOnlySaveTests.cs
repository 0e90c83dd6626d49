using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProDesk.Data;
using ProDesk.Data.Contacts;
using ProDesk.Data.Tenancy;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Data;

/// <summary>
/// Ingestion writes a new item's rows as one batch of INSERTs instead of through EF Core's update pipeline: the rows
/// must be the ones SaveChanges would write, with the same tenant wall, the same all-or-nothing failure, and
/// generated keys known afterwards.
/// </summary>
public sealed class InsertOnlySaveTests(ProDeskApp app) : PostgresTest(app)
{
    private static readonly DateTime At = new(2026, 11, 27, 8, 30, 15, 123, DateTimeKind.Utc);

    /// <summary>A contact, an item with its first message, a change and an event: what ingestion writes for a new message.</summary>
    private static async Task<(Contact Contact, WorkItem Item, WorkItemChange Change, OutboxEvent Event)> AddNewItemAsync(ProDeskDbContext db, string email, Guid? tenantId = null, string? messageKey = null)
    {
        var queue = await db.Queues.FirstAsync(q => q.IsDefault);
        var contact = new Contact { Id = Guid.CreateVersion7(), TenantId = tenantId ?? default, Name = "Zoë Ünal", Email = email, CreatedAt = At };
        var item = new WorkItem
        {
            Id = Guid.CreateVersion7(), TenantId = tenantId ?? default, Kind = WorkItemKind.Conversation, Status = WorkItemStatus.Pending,
            Priority = WorkItemPriority.High, QueueId = queue.Id, Subject = "Parcel \"damaged\"; 日本", Channel = "api", ExternalId = $"ext-{Guid.NewGuid():N}",
            ContactId = contact.Id, Tags = ["vip", "late"], CustomFieldsJson = """{"order":"A-1"}""", CreatedAt = At, UpdatedAt = At, DueAt = At.AddHours(4),
            Messages = [new WorkItemMessage { Id = Guid.CreateVersion7(), Kind = MessageKind.Inbound, Body = "It arrived broken.\nPlease help.", FromAddress = email, ExternalId = messageKey, CreatedAt = At }],
        };
        var change = new WorkItemChange { WorkItemId = item.Id, At = At, ActorName = email, Field = "created", To = "Pending" };
        var created = new OutboxEvent { Type = "WorkItemCreated", PayloadJson = $$"""{"id":"{{item.Id}}"}""", CreatedAt = At };
        db.Contacts.Add(contact);
        db.WorkItems.Add(item);
        db.WorkItemChanges.Add(change);
        db.OutboxEvents.Add(created);
        return (contact, item, change, created);
    }

    [Fact]
    public async Task A_new_items_rows_are_written_with_their_values_and_generated_keys_and_are_tracked_as_saved()
    {
        var (itemId, changeId, eventId, states) = await App.InTenantAsync("acme", async db =>
        {
            var (_, item, change, created) = await AddNewItemAsync(db, "zoe@example.test");
            Assert.True(await InsertOnlySave.TrySaveAsync(db, CancellationToken.None));
            return (item.Id, change.Id, created.Id, db.ChangeTracker.Entries().Select(e => e.State).Distinct().ToList());
        });

        Assert.Equal([EntityState.Unchanged], states);
        Assert.True(changeId > 0 && eventId > 0);
        var acme = await App.TenantAsync("acme");
        await App.InTenantAsync("acme", async db =>
        {
            var item = await db.WorkItems.AsNoTracking().Include(w => w.Messages).SingleAsync(w => w.Id == itemId);
            Assert.Equal((acme.Id, WorkItemStatus.Pending, WorkItemPriority.High, "Parcel \"damaged\"; 日本"), (item.TenantId, item.Status, item.Priority, item.Subject));
            Assert.Equal((At, DateTimeKind.Utc, At.AddHours(4)), (item.CreatedAt, item.CreatedAt.Kind, item.DueAt));
            Assert.Equal(["vip", "late"], item.Tags);
            Assert.Equal(1, item.Version);
            var message = Assert.Single(item.Messages);
            Assert.Equal(("It arrived broken.\nPlease help.", MessageKind.Inbound, acme.Id), (message.Body, message.Kind, message.TenantId));
            var contact = await db.Contacts.AsNoTracking().SingleAsync(c => c.Id == item.ContactId);
            Assert.Equal(("Zoë Ünal", acme.Id), (contact.Name, contact.TenantId));
            Assert.Equal("created", (await db.WorkItemChanges.AsNoTracking().SingleAsync(c => c.Id == changeId)).Field);
            Assert.Equal("WorkItemCreated", (await db.OutboxEvents.AsNoTracking().SingleAsync(e => e.Id == eventId)).Type);
            return 0;
        });
    }

    [Fact]
    public async Task A_row_of_another_tenant_is_refused_and_nothing_is_written()
    {
        var northwind = await App.TenantAsync("northwind");
        await Assert.ThrowsAsync<CrossTenantWriteException>(() => App.InTenantAsync("acme", async db =>
        {
            await AddNewItemAsync(db, "zoe@example.test");
            db.Contacts.Add(new Contact { Id = Guid.CreateVersion7(), TenantId = northwind.Id, Name = "Smuggled", Email = "smuggled@example.test" });
            return await InsertOnlySave.TrySaveAsync(db, CancellationToken.None);
        }));

        Assert.Equal(0, await App.InTenantAsync("acme", db => db.Contacts.CountAsync(c => c.Email == "zoe@example.test")));
        Assert.Equal(0, await App.InTenantAsync("northwind", db => db.Contacts.CountAsync(c => c.Email == "smuggled@example.test")));
    }

    [Fact]
    public async Task A_failing_row_fails_the_save_as_SaveChanges_does_and_leaves_none_of_the_rows_before_it()
    {
        await App.InTenantAsync("acme", async db =>
        {
            await AddNewItemAsync(db, "first@example.test", messageKey: "api:taken");
            return await db.SaveChangesAsync();
        });

        var failure = await Assert.ThrowsAsync<DbUpdateException>(() => App.InTenantAsync("acme", async db =>
        {
            // The message's key is taken: it is written after the contact, the event and the item it belongs to.
            await AddNewItemAsync(db, "second@example.test", messageKey: "api:taken");
            return await InsertOnlySave.TrySaveAsync(db, CancellationToken.None);
        }));

        Assert.Equal(PostgresErrorCodes.UniqueViolation, Assert.IsType<PostgresException>(failure.InnerException).SqlState);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.Contacts.CountAsync(c => c.Email == "second@example.test")));
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync(w => w.Subject == "Parcel \"damaged\"; 日本")));
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.OutboxEvents.CountAsync(e => e.Type == "WorkItemCreated" && e.CreatedAt == At)));
    }

    [Fact]
    public async Task Changes_that_are_not_all_inserts_are_left_to_SaveChanges()
    {
        var contactId = await App.InTenantAsync("acme", async db =>
        {
            var contact = new Contact { Id = Guid.CreateVersion7(), Name = "Before", Email = "before@example.test" };
            db.Contacts.Add(contact);
            await db.SaveChangesAsync();
            return contact.Id;
        });

        var (tried, afterwards) = await App.InTenantAsync("acme", async db =>
        {
            (await db.Contacts.SingleAsync(c => c.Id == contactId)).Name = "After";
            await AddNewItemAsync(db, "zoe@example.test");
            var tried = await InsertOnlySave.TrySaveAsync(db, CancellationToken.None);
            var written = await db.Contacts.AsNoTracking().CountAsync(c => c.Email == "zoe@example.test");
            await db.SaveChangesAsync();
            return (tried, written);
        });

        Assert.False(tried);
        Assert.Equal(0, afterwards);
        Assert.Equal("After", await App.InTenantAsync("acme", db => db.Contacts.Where(c => c.Id == contactId).Select(c => c.Name).SingleAsync()));
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.Contacts.CountAsync(c => c.Email == "zoe@example.test")));
    }

    [Fact]
    public async Task Saves_arriving_together_are_each_stored_or_refused_on_their_own_with_their_own_keys()
    {
        await App.InTenantAsync("acme", async db =>
        {
            await AddNewItemAsync(db, "first@example.test", messageKey: "api:taken");
            return await db.SaveChangesAsync();
        });

        // Thirty saves of three tenants let go at once: they queue behind each other's batches and are written together;
        // one of them (an acme message whose key is taken) must fail alone.
        string[] slugs = ["acme", "northwind", "merlion"];
        const int refused = 6;
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var saves = Enumerable.Range(0, 30).Select(i => Task.Run(async () =>
        {
            try
            {
                return await App.InTenantAsync(slugs[i % 3], async db =>
                {
                    var (_, item, change, created) = await AddNewItemAsync(db, $"sender{i}@example.test", messageKey: i == refused ? "api:taken" : $"api:m{i}");
                    var second = new WorkItemChange { WorkItemId = item.Id, At = At, ActorName = "zoe@example.test", Field = $"second-{i}", To = "Open" };
                    db.WorkItemChanges.Add(second);
                    await go.Task;
                    Assert.True(await InsertOnlySave.TrySaveAsync(db, CancellationToken.None));
                    return (Item: item.Id, Change: change.Id, Second: second.Id, Event: created.Id, Failure: (Exception?)null);
                });
            }
            catch (DbUpdateException e)
            {
                return (Item: Guid.Empty, Change: 0L, Second: 0L, Event: 0L, Failure: (Exception?)e);
            }
        })).ToList();
        go.SetResult();
        var outcomes = await Task.WhenAll(saves);

        Assert.Equal([refused], outcomes.Select((o, i) => (o, i)).Where(x => x.o.Failure is not null).Select(x => x.i));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, Assert.IsType<PostgresException>(outcomes[refused].Failure!.InnerException).SqlState);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.Contacts.CountAsync(c => c.Email == $"sender{refused}@example.test")));
        for (var i = 0; i < outcomes.Length; i++)
        {
            if (i == refused)
            {
                continue;
            }

            var (itemId, changeId, secondId, eventId, _) = outcomes[i];
            var at = i;
            var (item, changes, payload) = await App.InTenantAsync(slugs[i % 3], async db => (
                await db.WorkItems.AsNoTracking().Include(w => w.Messages).SingleAsync(w => w.Id == itemId),
                await db.WorkItemChanges.AsNoTracking().Where(c => c.WorkItemId == itemId).OrderBy(c => c.Id).Select(c => new { c.Id, c.Field }).ToListAsync(),
                await db.OutboxEvents.AsNoTracking().Where(e => e.Id == eventId).Select(e => e.PayloadJson).SingleAsync()));
            Assert.Equal($"api:m{at}", Assert.Single(item.Messages).ExternalId);
            // The keys read back are the rows' own, in the order the rows were added.
            Assert.Equal([(changeId, "created"), (secondId, $"second-{at}")], changes.Select(c => (c.Id, c.Field)));
            Assert.Contains(itemId.ToString(), payload, StringComparison.Ordinal);
        }
    }
}
