using System.Text.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Model;

namespace Jobs.Functions.Api;

/// <summary>
/// The small shape polled by progress bars: one point read, a few hundred bytes. <see cref="QueuePosition"/>: a queued
/// job's place in line (1: next to start), read from its type's queue; absent otherwise.
/// </summary>
public sealed record JobStatusView(
    string Id, JobStatus Status, int Progress, string? Step, int StepIndex, int StepCount, string? Message,
    JobError? Error, bool CancelRequested, DateTimeOffset UpdatedAt, int? QueuePosition = null);

/// <summary>
/// A job event stream's <c>status</c> and <c>end</c>: the polling shape and the rest of what a job page shows as it runs
/// — when it started and ended, its attempts and its step timeline — so a page needs no record read per change. The
/// input and result are not in it (they can be large): the result is read once, at the end.
/// </summary>
public sealed record JobEventStatus(
    string Id, JobStatus Status, int Progress, string? Step, int StepIndex, int StepCount, string? Message,
    JobError? Error, bool CancelRequested, DateTimeOffset UpdatedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt,
    int Attempt, int TotalAttempts, IReadOnlyList<JobStepRun> Steps);

/// <summary>How jobs look on the wire.</summary>
public static class JobRepresentation
{
    /// <summary>
    /// The whole record plus its management URLs under <paramref name="baseUrl"/> (the request's
    /// <see cref="PublicUrls.BaseUrl"/>), as <c>GET /api/jobs/{id}</c> and creation return it.
    /// </summary>
    /// <remarks><paramref name="queuePosition"/>: a queued job's place in line (see <see cref="JobStatusView"/>).</remarks>
    public static JsonObject Full(Job job, string baseUrl, int? queuePosition = null)
    {
        var node = JsonSerializer.SerializeToNode(job, JobJson.Options)!.AsObject();
        if (queuePosition is { } position)
        {
            node["queuePosition"] = position;
        }
        var links = JobLinks.For(baseUrl, job.Id);
        node["statusQueryGetUri"] = links.StatusQueryGetUri;
        node["sendEventPostUri"] = links.SendEventPostUri;
        node["terminatePostUri"] = links.TerminatePostUri;
        node["purgeHistoryDeleteUri"] = links.PurgeHistoryDeleteUri;
        return node;
    }

    public static JobEventStatus Event(Job job) =>
        new(job.Id, job.Status, job.Progress, job.Step, job.StepIndex, job.StepCount, job.Message, job.Error, job.CancelRequested,
            job.UpdatedAt, job.StartedAt, job.CompletedAt, job.Attempt, job.TotalAttempts, job.Steps);

    public static JobStatusView Status(Job job, int? queuePosition = null) =>
        new(job.Id, job.Status, job.Progress, job.Step, job.StepIndex, job.StepCount, job.Message,
            job.Error, job.CancelRequested, job.UpdatedAt, queuePosition);
}
