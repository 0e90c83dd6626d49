using ProDesk.Web.Data;

namespace ProDesk.Web.Tests.Features.Data;

/// <summary>Two processes starting on one fresh data directory (the web host and <c>token create</c>) prepare it one after the other.</summary>
public sealed class PreparationLockTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"prodesk-lock-{Guid.NewGuid():N}");

    [Fact]
    public async Task A_second_preparation_waits_for_the_first_and_then_goes_ahead()
    {
        var first = await PreparationLock.HoldAsync(_directory, TimeProvider.System);
        var second = PreparationLock.HoldAsync(_directory, TimeProvider.System);
        Assert.False(second.IsCompleted);

        await first.DisposeAsync();
        await using var held = await second.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(File.Exists(Path.Combine(_directory, PreparationLock.FileName)));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
