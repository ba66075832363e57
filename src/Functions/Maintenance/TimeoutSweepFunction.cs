using Jobs.Functions.Lifecycle;
using Jobs.Functions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Maintenance;

/// <summary>
/// Timer (<c>JobsTimeoutSweepSchedule</c>, every minute by default): ends pending or running jobs whose deadline
/// passed as <c>timed_out</c>. The orchestration races its own deadline timer; this catches what it cannot, such
/// as a job whose orchestration never started. Reads only the small <c>idx-active</c> partition.
/// </summary>
public sealed partial class TimeoutSweepFunction(JobStore store, JobCommands commands, ILogger<TimeoutSweepFunction> logger)
{
    private const int MaxPerRun = 1_000;

    [Function(nameof(SweepTimedOutJobs))]
    public async Task SweepTimedOutJobs(
        [TimerTrigger("%JobsTimeoutSweepSchedule%")] TimerInfo timer,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken) =>
        await SweepAsync(durable, cancellationToken);

    public async Task<int> SweepAsync(DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var timedOut = 0;
        foreach (var id in await store.PastDeadlineAsync(store.Now, MaxPerRun, cancellationToken))
        {
            if (await store.GetAsync(id, cancellationToken) is { } job && await commands.TimeOutAsync(job, durable, cancellationToken))
            {
                timedOut++;
            }
        }
        LogSwept(timedOut);
        return timedOut;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Timeout sweep: {Count} job(s) timed out.")]
    private partial void LogSwept(int count);
}
