using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Schedules;

/// <summary>
/// Timer (every 5 seconds): creates the runs of due schedule occurrences (<see cref="ScheduleFiring"/>), so a run starts
/// within seconds of its time. The host runs a timer on one instance at a time (its singleton lock); exactly-once does
/// not depend on it. Idle, a tick is one range read of the due rows: 12 storage transactions a minute, whatever the
/// number of schedules.
/// </summary>
public sealed partial class FireSchedulesFunction(ScheduleFiring firing, ILogger<FireSchedulesFunction> logger)
{
    /// <summary>Literal, so it works with no app setting (see <see cref="Maintenance.TimeoutSweepFunction.Schedule"/>).</summary>
    public const string Schedule = "*/5 * * * * *";

    [Function(nameof(FireSchedules))]
    public async Task FireSchedules(
        [TimerTrigger(Schedule)] TimerInfo timer,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        var created = await firing.RunAsync(durable, cancellationToken);
        if (created > 0)
        {
            LogCreated(created);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedules: {Count} run(s) created.")]
    private partial void LogCreated(int count);
}
