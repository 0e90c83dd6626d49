using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using ProDesk.Data.Identity;

namespace ProDesk.Web.Realtime;

/// <summary>
/// A user saved with a new security stamp (role, password, two-factor), a change of the tenants a member of staff serves, or a
/// user deleted: once the save has
/// committed, every node re-checks its agent hub connections (<see cref="HubSessions.RecheckNow"/>), so whatever
/// changed reaches open consoles at once, however the change was made (a page, the API, Identity's own managers).
/// </summary>
public sealed class RecheckOnUserChange(HubSessions sessions) : SaveChangesInterceptor
{
    private static readonly object Changed = new();

    // The contexts whose save under way changes a user; pooled contexts are reused, so an entry lives for one save.
    private readonly ConditionalWeakTable<DbContext, object> saving = new();

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Note(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Note(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Saved(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Saved(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Forget(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => Forget(eventData.Context);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    private void Note(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        foreach (var entry in context.ChangeTracker.Entries<AppUser>())
        {
            if (entry.State == EntityState.Deleted || (entry.State == EntityState.Modified && entry.Property(u => u.SecurityStamp).IsModified))
            {
                saving.AddOrUpdate(context, Changed);
                return;
            }
        }

        // A tenant assignment keeps the security stamp (nobody is signed out), but a tenant taken away must stop reaching
        // the agent's open consoles at once: the re-check compares each connection's tenants with the rows saved.
        if (context.ChangeTracker.Entries<StaffTenant>().Any(e => e.State is EntityState.Added or EntityState.Deleted))
        {
            saving.AddOrUpdate(context, Changed);
        }
    }

    // A save inside a transaction the caller has not committed yet is re-checked now all the same: the re-check reads
    // the committed stamp, so it closes nothing early, and the interval catches the commit.
    private void Saved(DbContext? context)
    {
        if (context is not null && saving.Remove(context))
        {
            sessions.RecheckNow();
        }
    }

    private void Forget(DbContext? context)
    {
        if (context is not null)
        {
            saving.Remove(context);
        }
    }
}
