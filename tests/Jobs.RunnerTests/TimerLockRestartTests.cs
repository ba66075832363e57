using System.Collections.Concurrent;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Jobs.LocalRunner.Restarts;
using Jobs.LocalRunner.Triggers;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;

namespace Jobs.RunnerTests;

/// <summary>
/// The restart mode (<see cref="HostRestarter"/>) for a timer whose singleton lock is lost while held, read from the
/// host's source: <c>SingletonListener</c> renews its lock through <c>BlobLeaseDistributedLockManager.RenewAsync</c>,
/// which rethrows any failure other than a server error; the <c>TaskSeriesTimer</c> hands it to the host's exception
/// handler, which restarts the host (Azure/azure-webjobs-sdk Singleton/SingletonManager.cs, BlobLeaseDistributedLockManager.cs;
/// azure-functions-host WebScriptHostExceptionHandler.OnUnhandledExceptionAsync). The lock is lost here as another party
/// breaking the lease makes it: the next renewal is refused with 409. Each test has a host id of its own, so its lock
/// blob is its own.
/// </summary>
[TakesAbout(18)]
public sealed class TimerLockRestartTests : IAsyncLifetime
{
    private readonly string _hostId = "l" + Guid.NewGuid().ToString("N")[..20];
    private readonly ConcurrentQueue<TimerRun> _runs = new();
    private readonly CapturingLogger<TimerTriggerListener> _listenerLog = new();
    private readonly CapturingLogger<HostRestarter> _restartLog = new();
    private HostRestarter? _restarter;

    /// <summary>The shortest lease the blob service grants (15 s, renewed every 7.5 s); a host without it retries every second.</summary>
    private static readonly HostSettings Host = new()
    {
        ListenerLockPeriod = TimeSpan.FromSeconds(15),
        ListenerLockRecoveryPollingInterval = TimeSpan.FromSeconds(1),
    };

    private BlobClient LockBlob => new BlobServiceClient(TestStorage.ConnectionString).GetBlobContainerClient(BlobScheduleMonitor.ContainerName)
        .GetBlobClient($"locks/{_hostId}/Host.Functions.ProbeTimer.Listener");

    /// <summary>A restarter over one timer that fires every second, unmonitored.</summary>
    private async Task<HostRestarter> StartAsync(bool restarts = true)
    {
        var method = typeof(TimerProbeFunction).GetMethod(nameof(TimerProbeFunction.Run))!;
        var function = new FunctionDescriptor("ProbeTimer", method, TriggerKind.Timer, method.GetParameters()[0]);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [TimerProbeFunction.ScheduleSetting] = "* * * * * *",
            [HostId.Setting] = _hostId,
            [HostRestarter.Setting] = restarts ? null : "false",
        }).Build();
        var services = new ServiceCollection().AddSingleton(new TimerProbe("runner", _runs)).AddSingleton(TimeProvider.System).AddSingleton(Host)
            .AddSingleton<ILoggerFactory>(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        // The invoker finds the restarter in the services, as in the runner (one restarter per host).
        services.AddSingleton(sp => _restarter!);
        var provider = services.BuildServiceProvider();
        _restarter = new HostRestarter(null,
            [() => new TimerTriggerListener(function, new BlobServiceClient(TestStorage.ConnectionString), Host, configuration,
                new HostingEnvironment { ContentRootPath = Path.GetTempPath() }, ListenerParts.UnusedDurableClient(), TimeProvider.System, provider, _listenerLog, _restarter)],
            configuration, _restartLog);
        await _restarter.StartAsync(CancellationToken.None);
        return _restarter;
    }

    private LeaseState LockState() => LockBlob.GetProperties().Value.LeaseState;

    /// <summary>Waits until the timer holds its lock and runs, then breaks the lease as another party would.</summary>
    private async Task BreakTheHeldLockAsync()
    {
        await ListenerParts.WaitUntilAsync(() => !_runs.IsEmpty, TimeSpan.FromSeconds(20), "the timer holds its lock and runs");
        Assert.Equal(LeaseState.Leased, LockState());
        await LockBlob.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
        Assert.Equal(LeaseState.Broken, LockState());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_restarter is not null)
        {
            await _restarter.StopAsync(CancellationToken.None);
            await _restarter.DisposeAsync();
        }
    }

    [Fact]
    public async Task LostTimerSingletonLock_RestartsTheHost_AndAFreshTimerTakesTheLockAgainAndRuns()
    {
        var restarter = await StartAsync();
        var first = restarter.Listeners.Single();
        await BreakTheHeldLockAsync();

        // The next renewal (within 7.5 s) is refused: the lock is lost, and the host restarts.
        await ListenerParts.WaitUntilAsync(() => restarter.Restarts == 1, TimeSpan.FromSeconds(30), "the host restarts");
        Assert.Contains(_restartLog.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("timer ProbeTimer lost its singleton lock", StringComparison.Ordinal)
            && e.Message.Contains("Restarting the host (restart 1)", StringComparison.Ordinal));
        Assert.Contains(_listenerLog.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("was lost", StringComparison.Ordinal));
        var fresh = restarter.Listeners.Single();
        Assert.NotSame(first, fresh);

        // The fresh timer takes the lock again and runs on; the first one runs no more.
        var restarted = DateTimeOffset.UtcNow;
        await ListenerParts.WaitUntilAsync(() => _runs.Count(r => r.At > restarted) >= 2, TimeSpan.FromSeconds(20), "the fresh timer runs");
        Assert.Equal(LeaseState.Leased, LockState());
        Assert.Equal(1, restarter.Restarts);
    }

    [Fact]
    public async Task LostTimerSingletonLock_WithRestartsOff_TheSameTimerStops_AndTakesItsLockAgain()
    {
        var restarter = await StartAsync(restarts: false);
        var first = restarter.Listeners.Single();
        await BreakTheHeldLockAsync();

        await ListenerParts.WaitUntilAsync(() => _listenerLog.Entries.Any(e => e.Level == LogLevel.Error && e.Message.Contains("was lost", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the lost lock is logged");
        var lost = DateTimeOffset.UtcNow;
        await ListenerParts.WaitUntilAsync(() => _runs.Count(r => r.At > lost) >= 2, TimeSpan.FromSeconds(20), "the timer runs again");

        Assert.Equal(LeaseState.Leased, LockState());
        Assert.Equal(0, restarter.Restarts);
        Assert.Same(first, restarter.Listeners.Single());
        Assert.Empty(_restartLog.Entries);
    }
}
