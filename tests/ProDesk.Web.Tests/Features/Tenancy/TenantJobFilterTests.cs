using System.Collections.Concurrent;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Contacts;
using ProDesk.Web.Tenancy;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Tenancy;

/// <summary>A job created in a tenant runs in that tenant, on the app's Hangfire server, with its jobs in PostgreSQL.</summary>
public sealed class TenantJobFilterTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task A_job_enqueued_in_a_tenant_runs_in_that_tenant_and_sees_only_its_rows()
    {
        await App.InTenantAsync("acme", async db =>
        {
            db.Contacts.Add(new Contact { Id = Guid.CreateVersion7(), Name = "Amélie" });
            return await db.SaveChangesAsync();
        });
        await App.InTenantAsync("northwind", async db =>
        {
            db.Contacts.AddRange(new Contact { Id = Guid.CreateVersion7(), Name = "Nora" }, new Contact { Id = Guid.CreateVersion7(), Name = "Ned" });
            return await db.SaveChangesAsync();
        });

        var token = Guid.NewGuid();
        var seen = TenantProbeJob.Expect(token);
        var jobs = App.Services.GetRequiredService<IBackgroundJobClient>();
        string jobId;
        using (TenantScopes.Enter(await App.ScopeAsync("northwind")))
        {
            jobId = jobs.Enqueue<TenantProbeJob>(job => job.RecordAsync(token));
        }

        var result = await seen.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(("northwind", 2), result);

        var northwind = await App.TenantAsync("northwind");
        using var connection = App.Services.GetRequiredService<JobStorage>().GetConnection();
        Assert.Equal($"\"{northwind.Id}\"", connection.GetJobParameter(jobId, TenantJobFilter.Parameter));
    }

    [Fact]
    public async Task A_job_enqueued_outside_any_tenant_runs_without_one()
    {
        await App.InTenantAsync("acme", async db =>
        {
            db.Contacts.Add(new Contact { Id = Guid.CreateVersion7(), Name = "Amélie" });
            return await db.SaveChangesAsync();
        });

        var token = Guid.NewGuid();
        var seen = TenantProbeJob.Expect(token);
        App.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<TenantProbeJob>(job => job.RecordAsync(token));
        Assert.Equal(("(none)", 0), await seen.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Every_recurring_schedule_is_registered_hourly_token_and_outbox_pruning_among_them()
    {
        using var connection = App.Services.GetRequiredService<JobStorage>().GetConnection();
        var jobs = Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection);
        var pruning = Assert.Single(jobs, j => j.Id == ProDesk.Web.Jobs.RecurringJobs.TokenPruningJob);
        Assert.Equal("17 * * * *", pruning.Cron);
        Assert.Equal(typeof(ProDesk.Web.Identity.TokenPruning), pruning.Job.Type);
        var outbox = Assert.Single(jobs, j => j.Id == ProDesk.Web.Jobs.RecurringJobs.OutboxPruningJob);
        Assert.Equal(typeof(ProDesk.Web.Realtime.OutboxPruning), outbox.Job.Type);
        var rawMail = Assert.Single(jobs, j => j.Id == ProDesk.Web.Jobs.RecurringJobs.RawMailRetentionJob);
        Assert.Equal(typeof(ProDesk.Web.Channels.Email.RawMailRetention), rawMail.Job.Type);
    }

    [Fact]
    public void Hangfire_keeps_its_jobs_in_postgresql()
    {
        Assert.IsType<PostgreSqlStorage>(App.Services.GetRequiredService<JobStorage>());
    }
}

/// <summary>Reports the tenant it ran in and how many contacts it could see.</summary>
public sealed class TenantProbeJob(ITenantContext tenantContext, ProDeskDbContext db)
{
    private static readonly ConcurrentDictionary<Guid, TaskCompletionSource<(string, int)>> Waiting = new();

    public static Task<(string Tenant, int Contacts)> Expect(Guid token) =>
        Waiting.GetOrAdd(token, _ => new TaskCompletionSource<(string, int)>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public async Task RecordAsync(Guid token)
    {
        var contacts = await db.Contacts.CountAsync();
        Waiting.GetOrAdd(token, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult((tenantContext.Current?.Slug ?? "(none)", contacts));
    }
}
