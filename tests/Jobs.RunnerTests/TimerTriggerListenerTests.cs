using System.Collections.Concurrent;
using Azure.Storage.Blobs;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Jobs.LocalRunner.Triggers;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.RunnerTests;

/// <summary>
/// The runner's timer trigger against the host's timer extension, read in Azure/azure-webjobs-sdk-extensions
/// (src/WebJobs.Extensions/Extensions/Timers: Listener/TimerListener.cs, Scheduling/ScheduleMonitor.cs and
/// StorageScheduleMonitor.cs, Scheduling/TimerSchedule.cs) and Azure/azure-webjobs-sdk (Singleton/SingletonListener.cs,
/// BlobLeaseDistributedLockManager.cs). Each test has a host id of its own, so its status and lock blobs are its own.
/// </summary>
[TakesAbout(15)]
public sealed class TimerTriggerListenerTests : IAsyncLifetime
{
    private readonly string _hostId = "t" + Guid.NewGuid().ToString("N")[..20];
    private readonly ConcurrentQueue<TimerRun> _runs = new();
    private readonly List<TimerTriggerListener> _listeners = [];

    private static BlobContainerClient HostContainer => new BlobServiceClient(TestStorage.ConnectionString).GetBlobContainerClient(BlobScheduleMonitor.ContainerName);

    private BlobScheduleMonitor Monitor => new(HostContainer, _hostId, NullLogger.Instance);

    private const string TimerName = "Host.Functions.ProbeTimer";

    /// <summary>A short lock period and a one-second retry for a host without the lock.</summary>
    private static readonly HostSettings Host = new()
    {
        ListenerLockPeriod = TimeSpan.FromSeconds(15),
        ListenerLockRecoveryPollingInterval = TimeSpan.FromSeconds(1),
    };

    internal static TimerTriggerListener Create(string schedule, string hostId, TimerProbe probe, TimeProvider time, IDictionary<string, string?>? settings = null)
    {
        var method = typeof(TimerProbeFunction).GetMethod(nameof(TimerProbeFunction.Run))!;
        var function = new FunctionDescriptor("ProbeTimer", method, TriggerKind.Timer, method.GetParameters()[0]);
        var values = new Dictionary<string, string?> { [TimerProbeFunction.ScheduleSetting] = schedule, [HostId.Setting] = hostId };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        var services = new ServiceCollection().AddSingleton(probe).AddSingleton(time).BuildServiceProvider();
        return new TimerTriggerListener(function, new BlobServiceClient(TestStorage.ConnectionString), Host,
            new ConfigurationBuilder().AddInMemoryCollection(values).Build(), new HostingEnvironment { ContentRootPath = Path.GetTempPath() },
            ListenerParts.UnusedDurableClient(), time, services, new CapturingLogger<TimerTriggerListener>());
    }

    private async Task<TimerTriggerListener> StartAsync(string schedule, string listener = "A", TimeProvider? time = null)
    {
        var started = Create(schedule, _hostId, new TimerProbe(listener, _runs), time ?? TimeProvider.System);
        _listeners.Add(started);
        await started.StartAsync(CancellationToken.None);
        return started;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var listener in _listeners)
        {
            await listener.StopAsync(CancellationToken.None);
            listener.Dispose();
        }
    }

    [Fact]
    public async Task MissedOccurrence_RunsAtStartUp_WithIsPastDue_AndTheStatusMovesOn()
    {
        // An hourly timer whose record says it last ran three hours ago: the occurrence after that was missed.
        var now = DateTimeOffset.UtcNow;
        var last = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-3);
        await HostContainer.CreateIfNotExistsAsync();
        await Monitor.UpdateStatusAsync(TimerName, new ScheduleStatusRecord(last, last.AddHours(1), last));

        var listener = await StartAsync("0 0 * * * *");
        Assert.True(listener.UseMonitor);
        await ListenerParts.WaitUntilAsync(() => !_runs.IsEmpty, TimeSpan.FromSeconds(20), "the past-due run");

        var run = Assert.Single(_runs);
        Assert.True(run.IsPastDue);
        Assert.Equal(last.UtcDateTime, run.Status!.Last.ToUniversalTime());
        Assert.Equal(last.AddHours(1).UtcDateTime, run.Status.Next.ToUniversalTime());
        // Recorded as run now, next at the coming hour.
        ScheduleStatusRecord? status = null;
        await ListenerParts.WaitUntilAsync(() =>
        {
            status = Monitor.GetStatusAsync(TimerName, CancellationToken.None).GetAwaiter().GetResult();
            return status is not null && status.Last > now;
        }, TimeSpan.FromSeconds(10), "the status is updated");
        Assert.True(status!.Next > DateTimeOffset.UtcNow);
        Assert.Equal(0, status.Next.Minute + status.Next.Second);
        await Task.Delay(500);
        Assert.Single(_runs);
    }

    [Fact]
    public async Task NewTimer_RecordsItsNextOccurrence_AndDoesNotRunAtStartUp()
    {
        await StartAsync("0 0 * * * *");
        ScheduleStatusRecord? status = null;
        await ListenerParts.WaitUntilAsync(() =>
        {
            status = Monitor.GetStatusAsync(TimerName, CancellationToken.None).GetAwaiter().GetResult();
            return status is not null;
        }, TimeSpan.FromSeconds(20), "the status is recorded");

        Assert.True(ScheduleStatusRecord.IsUnset(status!.Last));
        Assert.True(status.Next > DateTimeOffset.UtcNow);
        await Task.Delay(1500);
        Assert.Empty(_runs);
    }

    [Fact]
    public async Task TwoListenersOnTheSameStorage_FireOncePerOccurrence_AndTheSecondTakesOverWhenTheFirstStops()
    {
        var first = await StartAsync("*/2 * * * * *", "A");
        await ListenerParts.WaitUntilAsync(() => !_runs.IsEmpty, TimeSpan.FromSeconds(20), "the first listener runs the timer");
        var second = await StartAsync("*/2 * * * * *", "B");
        var runsOfA = _runs.Count(r => r.Listener == "A");
        await ListenerParts.WaitUntilAsync(() => _runs.Count(r => r.Listener == "A") >= runsOfA + 2, TimeSpan.FromSeconds(20),
            "the first listener runs two more occurrences while the second one is there");

        await first.StopAsync(CancellationToken.None);
        var stoppedAt = DateTimeOffset.UtcNow;
        await ListenerParts.WaitUntilAsync(() => _runs.Any(r => r.Listener == "B"), TimeSpan.FromSeconds(20), "the second listener takes over");
        await second.StopAsync(CancellationToken.None);

        var runs = _runs.OrderBy(r => r.At).ToList();
        Assert.True(runs.Count(r => r.Listener == "A") >= 3, $"{runs.Count} runs");
        Assert.DoesNotContain(runs, r => r.Listener == "B" && r.At < stoppedAt);
        // Occurrences are on the even seconds, and a run is never early: two runs of one occurrence would fall in the same
        // two seconds. (Not the gap between runs: a run a loaded machine made late can be followed by the next one on
        // time, less than two seconds later.)
        foreach (var occurrence in runs.GroupBy(r => r.At.ToUnixTimeSeconds() / 2))
        {
            Assert.True(occurrence.Count() == 1, $"one occurrence ran {occurrence.Count()} times: {string.Join(", ", occurrence.Select(r => $"{r.At:O} ({r.Listener})"))}");
        }
        Assert.All(runs, r => Assert.Null(r.Status));
    }

    [Fact]
    public async Task FiveFieldSchedule_FiresOnTheMinute_AsAMonitoredTimer()
    {
        // A clock standing three seconds before a minute: "* * * * *" (minutes first) fires at that minute. It stands there
        // until the listener has recorded its next occurrence, however long a loaded machine takes to start it (a clock
        // set three seconds before the minute when the test began could pass the minute first: the next is a minute away).
        var real = DateTimeOffset.UtcNow;
        var minute = new DateTimeOffset(real.Year, real.Month, real.Day, real.Hour, real.Minute, 0, TimeSpan.Zero).AddMinutes(5);
        var clock = new StandingTimeProvider(minute.AddSeconds(-3));

        var listener = await StartAsync("* * * * *", time: clock);
        Assert.True(listener.UseMonitor);
        ScheduleStatusRecord? recorded = null;
        await ListenerParts.WaitUntilAsync(() =>
        {
            recorded = Monitor.GetStatusAsync(TimerName, CancellationToken.None).GetAwaiter().GetResult();
            return recorded is not null;
        }, TimeSpan.FromSeconds(20), "the listener records its next occurrence");
        Assert.Equal(minute.UtcDateTime, recorded!.Next.ToUniversalTime());
        clock.Release();
        await ListenerParts.WaitUntilAsync(() => !_runs.IsEmpty, TimeSpan.FromSeconds(20), "the run on the minute");

        // The run of that minute's occurrence (the status it was given names it), not before it.
        var run = Assert.Single(_runs);
        Assert.False(run.IsPastDue);
        Assert.True(run.At >= minute, $"ran at {run.At:O}, before {minute:O}");
        Assert.Equal(minute.UtcDateTime, run.Status!.Next.ToUniversalTime());
    }

    [Fact]
    public async Task TimeSpanSchedule_FiresEveryPeriod_Unmonitored()
    {
        var listener = await StartAsync("00:00:01");
        Assert.False(listener.UseMonitor);
        await ListenerParts.WaitUntilAsync(() => _runs.Count >= 3, TimeSpan.FromSeconds(20), "three runs");
        await listener.StopAsync(CancellationToken.None);

        var runs = _runs.OrderBy(r => r.At).ToList();
        foreach (var (earlier, later) in runs.Zip(runs.Skip(1)))
        {
            Assert.InRange((later.At - earlier.At).TotalSeconds, 0.9, 2.0);
        }
        Assert.All(runs, r => Assert.False(r.IsPastDue));
        Assert.All(runs, r => Assert.Null(r.Status));
    }
}
