using Hangfire;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Identity;
using ProDesk.Web.Realtime;

namespace ProDesk.Web.Jobs;

/// <summary>Registers every recurring schedule at start.</summary>
public interface IRecurringJobs
{
    void Register();
}

/// <summary>
/// The one list of every recurring schedule (IMAP polling per mailbox, SLA sweeper, rollups,
/// billing run, token pruning, retention). Features add their lines here, so the whole timetable
/// is readable in one place. Jobs must be reentrant: Hangfire runs them at least once.
/// </summary>
internal sealed class RecurringJobs(IRecurringJobManager jobs, IConfiguration configuration) : IRecurringJobs
{
    public const string TokenPruningJob = "token-pruning";

    public const string MailboxPollingJob = "mailbox-polling";

    public const string OutboxPruningJob = "outbox-pruning";

    public const string RawMailRetentionJob = "raw-mail-retention";

    public void Register()
    {
        jobs.AddOrUpdate<TokenPruning>(TokenPruningJob, job => job.RunAsync(CancellationToken.None), Cron.Hourly(17));
        // Every tenant's IMAP mailboxes, in parallel; the IDLE watcher (Channels/Email/MailboxWatcher) is the fast path.
        // Email:PollEveryMinute=false leaves it out (and takes it out of a job store that had it): the tests poll by
        // hand, and a minute's poll running at that moment made theirs return at once with nothing taken in yet.
        if (configuration.GetValue("Email:PollEveryMinute", true))
        {
            jobs.AddOrUpdate<MailboxPolling>(MailboxPollingJob, job => job.RunAsync(CancellationToken.None), Cron.Minutely());
        }
        else
        {
            jobs.RemoveIfExists(MailboxPollingJob);
        }

        jobs.AddOrUpdate<OutboxPruning>(OutboxPruningJob, job => job.RunAsync(CancellationToken.None), Cron.Hourly(41));
        // Email:RawRetentionDays=0 keeps raw mail forever; the job then deletes nothing.
        jobs.AddOrUpdate<RawMailRetention>(RawMailRetentionJob, job => job.RunAsync(CancellationToken.None), Cron.Hourly(53));
    }
}
