namespace ProDesk.Web.Hosting;

/// <summary>
/// A background loop over shared work (the outbox relay, the outbound dispatcher): it runs passes
/// until one says nothing is left, then waits for <see cref="Wake"/> (called after a commit on this
/// node that gave it work) or its poll interval (work other nodes wrote), whichever comes first.
/// Wakes coalesce: many calls while a pass runs mean one more pass. A failed pass is reported and
/// the loop carries on at the next wake or poll.
/// </summary>
public abstract class WakeablePollingService(TimeSpan pollInterval) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Woken by another thread in between.
            }
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>One pass; true when more work may be waiting, so the next pass runs at once.</summary>
    protected abstract Task<bool> PassAsync(CancellationToken cancellationToken);

    protected abstract void OnPassFailed(Exception exception);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await PassAsync(stoppingToken))
                {
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                OnPassFailed(e);
            }

            try
            {
                await _wake.WaitAsync(pollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
