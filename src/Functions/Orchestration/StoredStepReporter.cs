using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Orchestration;

/// <summary>
/// Writes a running step's progress to the job record and its log lines to <c>JobLogs</c>, at once.
/// Each progress write starts from the record this step last wrote, so it costs one request; only when someone
/// else changed the record meanwhile (a cancel request, say) does the ETag check fail and force a re-read —
/// which is exactly how the step learns that it was cancelled. A write that fails (after the storage client's
/// own retries) is thrown to the handler as a <see cref="JobBookkeepingException"/> and remembered in
/// <see cref="Fault"/>, so the step's failure is charged to the engine even if the handler wraps it.
/// </summary>
internal sealed class StoredStepReporter(JobStore store, JobLogStore logs, Job started, string step, int stepIndex, int stepCount)
    : IJobStepReporter
{
    private readonly string _jobId = started.Id;
    private Job _known = started;

    /// <summary>The first bookkeeping failure of this attempt, if any.</summary>
    public JobBookkeepingException? Fault { get; private set; }

    public async Task<bool> ReportProgressAsync(int stepPercent, string? message, CancellationToken cancellationToken)
    {
        var overall = JobProgress.Within(stepIndex, stepCount, stepPercent);
        var update = await GuardAsync("record progress", () => store.UpdateAsync(_known, current => JobTransitions.ReportProgress(current, overall, message), cancellationToken));
        if (update is null)
        {
            return true;
        }
        _known = update.Job;
        return update.Job.CancelRequested || update.Job.Status.IsTerminal();
    }

    public Task LogAsync(JobLogLevel level, string message, CancellationToken cancellationToken) =>
        GuardAsync("write a log line", () => logs.AppendAsync(_jobId, level, message, step, cancellationToken));

    private async Task<T> GuardAsync<T>(string what, Func<Task<T>> call)
    {
        try
        {
            return await JobBookkeepingException.Guard(what, call);
        }
        catch (JobBookkeepingException fault)
        {
            Fault ??= fault;
            throw;
        }
    }
}
