using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Orchestration;

/// <summary>Writes a running step's progress to the job record and its log lines to <c>JobLogs</c>, at once.</summary>
internal sealed class StoredStepReporter(JobStore store, JobLogStore logs, string jobId, string step, int stepIndex, int stepCount)
    : IJobStepReporter
{
    public async Task<bool> ReportProgressAsync(int stepPercent, string? message, CancellationToken cancellationToken)
    {
        var overall = JobProgress.Within(stepIndex, stepCount, stepPercent);
        var update = await store.UpdateAsync(jobId, current => current.Status.IsTerminal() ? null : current with
        {
            Progress = JobProgress.Advance(current.Progress, overall),
            Message = message ?? current.Message,
        }, cancellationToken);
        return update is null || update.Job.CancelRequested || update.Job.Status.IsTerminal();
    }

    public Task LogAsync(JobLogLevel level, string message, CancellationToken cancellationToken) =>
        logs.AppendAsync(jobId, level, message, step, cancellationToken);
}
