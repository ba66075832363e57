using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Maintenance;

/// <summary>
/// Timer (every minute): the deadline sweep and the reconciler in one pass over the live-job index (see
/// <see cref="JobReconciler"/>). It ends as <c>timed_out</c> a live job whose deadline passed and that its orchestration
/// did not end — a handler that ignores its cancellation token (after a grace), or a job with no orchestration — with
/// the same ending the orchestration would write (<see cref="Lifecycle.JobOutcome.TimedOut"/>), and makes every live
/// record agree with its orchestration. Reads only the live-job rows, never the whole table.
/// </summary>
public sealed partial class TimeoutSweepFunction(JobReconciler reconciler, ILogger<TimeoutSweepFunction> logger)
{
    /// <summary>
    /// A literal schedule, so the timer works with no app setting (the Functions host puts a timer whose
    /// <c>%Setting%</c> is missing in error). The local runner can override it for tests (Jobs:Runner:Schedules).
    /// </summary>
    public const string Schedule = "0 */1 * * * *";

    [Function(nameof(SweepTimedOutJobs))]
    public async Task SweepTimedOutJobs(
        [TimerTrigger(Schedule)] TimerInfo timer,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken) =>
        await SweepAsync(durable, cancellationToken);

    public async Task<int> SweepAsync(DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var counts = await reconciler.RunAsync(durable, cancellationToken);
        var changed = counts.Values.Sum();
        LogSwept(changed, string.Join(", ", counts.Select(c => $"{c.Key}: {c.Value}")));
        return changed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sweep: {Count} job(s) reconciled ({Details}).")]
    private partial void LogSwept(int count, string details);
}
