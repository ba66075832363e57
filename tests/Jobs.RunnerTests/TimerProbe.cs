using System.Collections.Concurrent;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.RunnerTests;

/// <summary>One run of the probe timer: which listener ran it, what it was told, and when (on the listener's clock).</summary>
public sealed record TimerRun(string Listener, bool IsPastDue, ScheduleStatus? Status, DateTimeOffset At);

/// <summary>Records the probe timer's runs; listeners that share one <paramref name="runs"/> can be told apart by name.</summary>
public sealed class TimerProbe(string listener, ConcurrentQueue<TimerRun> runs)
{
    public ConcurrentQueue<TimerRun> Runs => runs;

    public void Record(TimerInfo timer, DateTimeOffset at) => runs.Enqueue(new TimerRun(listener, timer.IsPastDue, timer.ScheduleStatus, at));
}

/// <summary>A timer-triggered function whose schedule is an app setting, so each test picks its own.</summary>
public sealed class TimerProbeFunction(TimerProbe probe, TimeProvider time)
{
    public const string ScheduleSetting = "ProbeSchedule";

    public void Run([TimerTrigger("%" + ScheduleSetting + "%")] TimerInfo timer) => probe.Record(timer, time.GetUtcNow());
}

/// <summary>
/// A clock that stands at <paramref name="standsAt"/> until <see cref="Release"/>, then runs on from it in real time; its
/// timers wait real time. A test can stand a listener just before a minute for as long as the listener takes to start.
/// </summary>
public sealed class StandingTimeProvider(DateTimeOffset standsAt) : TimeProvider
{
    private long _releasedAtTicks;

    public void Release() => Interlocked.CompareExchange(ref _releasedAtTicks, TimeProvider.System.GetUtcNow().UtcTicks, 0);

    public override DateTimeOffset GetUtcNow() => Interlocked.Read(ref _releasedAtTicks) is var released and > 0
        ? standsAt + (TimeProvider.System.GetUtcNow() - new DateTimeOffset(released, TimeSpan.Zero))
        : standsAt;
}
