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

/// <summary>The system clock moved by a fixed amount; its timers wait real time, so a test can stand just before a minute.</summary>
public sealed class ShiftedTimeProvider(TimeSpan shift) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
}
