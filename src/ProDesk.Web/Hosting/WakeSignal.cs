namespace ProDesk.Web.Hosting;

/// <summary>
/// Wakes a polling background loop early (the outbox relay, the outbound dispatcher) after a commit
/// that gave it work. Wakes coalesce: many calls while the loop is busy mean one more pass.
/// </summary>
public sealed class WakeSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Wake()
    {
        if (_semaphore.CurrentCount == 0)
        {
            try
            {
                _semaphore.Release();
            }
            catch (SemaphoreFullException)
            {
                // Woken by another thread in between.
            }
        }
    }

    /// <summary>Returns at the next wake or after <paramref name="timeout"/>, whichever comes first.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _semaphore.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _semaphore.Dispose();
}
