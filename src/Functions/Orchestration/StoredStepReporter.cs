using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Orchestration;

/// <summary>
/// Writes a running step's progress to the job record and its log lines to <c>JobLogs</c>, at once.
/// Each progress write starts from the record this step last wrote, so it costs one request; only when someone
/// else changed the record meanwhile (a cancel request, say) does the ETag check fail and force a re-read —
/// which is exactly how the step learns that it was cancelled.
/// </summary>
internal sealed class StoredStepReporter(JobStore store, JobLogStore logs, Job started, string step, int stepIndex, int stepCount)
    : IJobStepReporter
{
    private readonly string _jobId = started.Id;
    private Job _known = started;

    public async Task<bool> ReportProgressAsync(int stepPercent, string? message, CancellationToken cancellationToken)
    {
        var overall = JobProgress.Within(stepIndex, stepCount, stepPercent);
        var update = await store.UpdateAsync(_known, current => current.Status.IsTerminal() ? null : current with
        {
            Progress = JobProgress.Advance(current.Progress, overall),
            Message = message ?? current.Message,
        }, cancellationToken);
        if (update is null)
        {
            return true;
        }
        _known = update.Job;
        return update.Job.CancelRequested || update.Job.Status.IsTerminal();
    }

    public Task LogAsync(JobLogLevel level, string message, CancellationToken cancellationToken) =>
        logs.AppendAsync(_jobId, level, message, step, cancellationToken);
}
