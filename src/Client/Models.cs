using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jobs.Client;

/// <summary>A job's status. Terminal: <see cref="Completed"/>, <see cref="Failed"/>, <see cref="Cancelled"/>, <see cref="TimedOut"/>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobState>))]
public enum JobState
{
    [JsonStringEnumMemberName("draft")] Draft,
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
    [JsonStringEnumMemberName("timed_out")] TimedOut,

    /// <summary>Waiting for a slot of its type (a concurrency limit is reached, or the type is paused); listed after the others so earlier values keep their numbers.</summary>
    [JsonStringEnumMemberName("queued")] Queued,

    /// <summary>Waiting for a person's decision (<see cref="Job.Decision"/>; answer with <see cref="JobsClient.DecideAsync"/>); listed last for the same reason.</summary>
    [JsonStringEnumMemberName("waiting")] Waiting,
}

/// <summary>An answer to a decision: <see cref="Expired"/> when nobody answered and the job failed or was cancelled for it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DecisionAnswer>))]
public enum DecisionAnswer
{
    [JsonStringEnumMemberName("approve")] Approve,
    [JsonStringEnumMemberName("reject")] Reject,
    [JsonStringEnumMemberName("expired")] Expired,
}

/// <summary>
/// The decision a job waits for (status <see cref="JobState.Waiting"/>) or last waited for: what is asked, who besides
/// the owner may answer (<see cref="Role"/>), by when (<see cref="TimeoutAt"/>, then <see cref="OnTimeout"/>:
/// fail, cancel, approve or reject), and once answered the answer, comment, payload, who and when.
/// </summary>
public sealed record JobDecision
{
    public required string Name { get; init; }
    public required string Question { get; init; }
    public string? Step { get; init; }
    public string? Role { get; init; }
    public DateTimeOffset AskedAt { get; init; }
    public DateTimeOffset TimeoutAt { get; init; }
    public string? OnTimeout { get; init; }
    public DecisionAnswer? Answer { get; init; }
    public bool TimedOut { get; init; }
    public string? Comment { get; init; }
    public JsonElement? Payload { get; init; }
    public string? DecidedBy { get; init; }
    public string? DecidedByName { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
}

public static class JobStateExtensions
{
    public static bool IsTerminal(this JobState state) => state is JobState.Completed or JobState.Failed or JobState.Cancelled or JobState.TimedOut;

    /// <summary>The API's name of the status (<c>timed_out</c>, …).</summary>
    public static string ToWire(this JobState state) => JsonSerializer.Serialize(state).Trim('"');
}

public sealed record EntityRef(string Type, string Id);

public sealed record JobError(string Message, string? Type, string? StackTrace, string? Step);

/// <summary>A job as <c>GET /api/jobs/{id}</c> returns it.</summary>
public sealed record Job
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public required JobState Status { get; init; }
    public string Owner { get; init; } = "";
    public int Progress { get; init; }
    public string? Step { get; init; }
    public int StepIndex { get; init; }
    public int StepCount { get; init; }
    public string? Message { get; init; }
    public JsonElement? Input { get; init; }
    public JsonElement? Result { get; init; }
    public JobError? Error { get; init; }
    public string? CorrelationId { get; init; }
    public EntityRef? Entity { get; init; }

    /// <summary>The job's tags (<c>name</c> or <c>name:value</c>), set at creation.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
    public bool CancelRequested { get; init; }
    public int TotalAttempts { get; init; }

    /// <summary>The steps that started, in order: start, end, attempts, how each ended, and a parallel step's items.</summary>
    public IReadOnlyList<JobStepRun> Steps { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public DateTimeOffset? NotBefore { get; init; }
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>The job this one reruns, or null.</summary>
    public string? RerunOf { get; init; }

    /// <summary>The latest rerun of this job, or null.</summary>
    public string? RerunBy { get; init; }

    /// <summary>For a resumed rerun: the step it started at (the ones before are its original's).</summary>
    public JobResumePoint? ResumedAt { get; init; }

    /// <summary>The recurring schedule this job is a run of, or null.</summary>
    public string? ScheduleId { get; init; }
    /// <summary>0–9, higher first: the order queued jobs of its type start in (then arrival).</summary>
    public int Priority { get; init; }

    /// <summary>What its type's per-key concurrency limit counts it against (a tenant, a customer), or null.</summary>
    public string? ConcurrencyKey { get; init; }

    /// <summary>A queued job's place in line (1: next to start); null otherwise.</summary>
    public int? QueuePosition { get; init; }

    /// <summary>The decision the job waits for (<see cref="JobState.Waiting"/>), or the last one it waited for; null when none was asked.</summary>
    public JobDecision? Decision { get; init; }

    public string? StatusQueryGetUri { get; init; }
}

public sealed record JobResumePoint(string Step, int StepIndex);

/// <summary>One step as it ran; <see cref="Status"/>: running, completed, failed, cancelled or timed_out.</summary>
public sealed record JobStepRun(string Name, int Index, string Status, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, int Attempts, JobStepItems? Items);

/// <summary>A parallel step's items; <see cref="States"/>: one letter per item (p waiting, r running, d done, f failed), null over 1,000 items.</summary>
public sealed record JobStepItems(int Total, int Done, int Failed, string? States);

/// <summary>What <see cref="JobsClient.RerunAsync"/> asks for: a new input (a whole rerun), or a resume at the failed step.</summary>
public sealed record RerunOptions
{
    /// <summary>Replaces the original's input (a whole rerun only).</summary>
    public JsonElement? Input { get; init; }

    /// <summary>Start at the step the original failed at, with the outputs of the steps before it, instead of from the start.</summary>
    public bool FromFailedStep { get; init; }

    /// <summary>Sent as <c>Idempotency-Key</c>: repeating the call returns the same rerun.</summary>
    public string? IdempotencyKey { get; init; }
}

/// <summary>The small polling shape (<c>/status</c>, and the event stream's <c>status</c> and <c>end</c> events).</summary>
/// <remarks><paramref name="QueuePosition"/>: a queued job's place in line (1: next to start); null otherwise.</remarks>
public sealed record JobStatus(
    string Id, JobState Status, int Progress, string? Step, int StepIndex, int StepCount, string? Message, JobError? Error,
    bool CancelRequested, DateTimeOffset UpdatedAt, int? QueuePosition = null);

public sealed record JobLogLine(string Cursor, DateTimeOffset Timestamp, string Level, string Message, string? Step);

public sealed record JobLogPage(string JobId, IReadOnlyList<JobLogLine> Lines, string? Next, bool HasMore);

/// <summary>
/// Who did something to a job: <see cref="Kind"/> <c>user</c> (a principal: id, name, identity provider, and the client
/// address where the service trusts it) or <c>system</c> (a part of the service: <see cref="Id"/> names it).
/// </summary>
public sealed record AuditActor(string Kind, string Id, string? Name, string? IdentityProvider, string? ClientAddress);

/// <summary>One entry of a job's audit trail: who (<see cref="Actor"/>) did what (<see cref="Action"/>, e.g. <c>cancel_requested</c>, with its details) and when.</summary>
public sealed record JobAuditEntry(string Cursor, DateTimeOffset At, string Action, AuditActor Actor, IReadOnlyDictionary<string, string> Details);

public sealed record JobAuditPage(string JobId, IReadOnlyList<JobAuditEntry> Entries, string? Next, bool HasMore);

public sealed record JobResult(string Id, JobState Status, JsonElement? Result, IReadOnlyDictionary<string, string>? Metadata, JobError? Error, DateTimeOffset? CompletedAt);

/// <summary>One of a job's artifacts: its name, size, content type and download route (relative to the service).</summary>
public sealed record JobArtifact(string Name, long Bytes, string ContentType, string Href, DateTimeOffset? LastModified)
{
    /// <summary>The artifact an oversized result is written to (the job's metadata <c>resultArtifact</c> names it).</summary>
    public const string Result = "result.json";
}

/// <summary>The answer of <c>GET /api/jobs/{id}/artifacts</c>.</summary>
public sealed record JobArtifactList(string Id, IReadOnlyList<JobArtifact> Artifacts);

public sealed record JobSummary(string Id, string Type, JobState Status, string Owner, EntityRef? Entity, string? CorrelationId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>
    /// A queued job's place in line (1: next to start), as <see cref="Job.QueuePosition"/>; null for other statuses and
    /// for a job further back than the head of its type's queue that a list page reads.
    /// </summary>
    public int? QueuePosition { get; init; }
}

public sealed record Pagination(int Limit, bool HasNext, string? Next, string? NextLink, int Count, int Offset, long? Total, long? TotalPages);

public sealed record JobPage(IReadOnlyList<JobSummary> Jobs, Pagination Pagination);

/// <remarks>
/// <paramref name="MaxRunning"/> and <paramref name="MaxPerKey"/>: its concurrency limits (null: none);
/// <paramref name="DefaultPriority"/>: a job's priority when created without one; <paramref name="Paused"/>: an admin paused it.
/// </remarks>
public sealed record JobType(
    string Type, string Description, IReadOnlyList<string> Steps, double TimeoutSeconds, JsonElement InputSchema, IReadOnlyDictionary<string, string>? StaticMetadata,
    bool Resumable = true, int? MaxRunning = null, int? MaxPerKey = null, int DefaultPriority = 5, bool Paused = false);

/// <summary>A job type's slots, as pausing or resuming it answers: paused or not, jobs running (holding slots), jobs queued.</summary>
public sealed record JobTypeSlots(string Type, bool Paused, int Running, int Queued);

public sealed record JobTypeStats(long Total, IReadOnlyDictionary<string, long> ByStatus);

/// <summary>Durations of a set of jobs from the roll-ups' buckets (milliseconds; absent when there are none).</summary>
public sealed record DurationSummary(long Count, double? MeanMs, double? P50Ms, double? P95Ms, long? MaxMs);

/// <summary>One slot of one job type in <c>GET /api/metrics</c>.</summary>
public sealed record MetricPoint(DateTimeOffset At, long Created, long Started, long Completed, long Failed, long Cancelled, long TimedOut,
    DurationSummary QueueWait, DurationSummary Duration);

/// <summary>A type's whole window in <c>GET /api/metrics</c>.</summary>
public sealed record MetricTotals(long Created, long Started, long Completed, long Failed, long Cancelled, long TimedOut,
    DurationSummary QueueWait, DurationSummary Duration);

/// <summary>One job type's points (slots where something happened) and totals.</summary>
public sealed record MetricSeries(string Type, MetricTotals Totals, IReadOnlyList<MetricPoint> Points);

/// <summary>The body of <c>GET /api/metrics</c>.</summary>
public sealed record Metrics(string Scope, string? Owner, string Interval, DateTimeOffset From, DateTimeOffset To, string Consistency, IReadOnlyList<MetricSeries> Series);

/// <summary>What <c>GET /api/metrics</c> asks for; every field optional (the service's defaults: the last 60 minutes).</summary>
public sealed record MetricsQuery
{
    /// <summary><c>minute</c> or <c>hour</c>.</summary>
    public string? Interval { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public IReadOnlyList<string> Types { get; init; } = [];

    /// <summary>Another owner's metrics (admins only).</summary>
    public string? Owner { get; init; }
}

public sealed record JobStats(string Scope, string? Owner, long Total, IReadOnlyDictionary<string, long> ByStatus, IReadOnlyDictionary<string, JobTypeStats> ByType, string Consistency);

/// <summary>What to create. <see cref="IdempotencyKey"/> is filled with a new one when left empty, so a retried create is one job.</summary>
public sealed record CreateJobRequest
{
    public required string Type { get; init; }
    public object? Input { get; init; }
    public string? CorrelationId { get; init; }
    public EntityRef? Entity { get; init; }

    /// <summary>Up to 10 tags, each <c>name</c> or <c>name:value</c> of at most 64 characters.</summary>
    public IReadOnlyList<string>? Tags { get; init; }
    public string? IdempotencyKey { get; init; }
    public DateTimeOffset? NotBefore { get; init; }
    public bool Draft { get; init; }

    /// <summary>0–9, higher first among its type's queued jobs (null: the type's default).</summary>
    public int? Priority { get; init; }

    /// <summary>What the type's per-key concurrency limit counts this job against (a tenant, a customer); at most 128 characters.</summary>
    public string? ConcurrencyKey { get; init; }
}

/// <summary>Filters of a listing (each empty = any).</summary>
public sealed record JobQuery
{
    public IReadOnlyList<JobState> Statuses { get; init; } = [];
    public IReadOnlyList<string> Types { get; init; } = [];
    public string? Owner { get; init; }
    public EntityRef? Entity { get; init; }

    /// <summary>The runs of one recurring schedule (not with <see cref="Entity"/>).</summary>
    public string? ScheduleId { get; init; }

    /// <summary>Only jobs created with this correlation id (exact match); such a listing has no total.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>Only jobs with every one of these tags (not with <see cref="Entity"/>).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
    public DateTimeOffset? CreatedFrom { get; init; }
    public DateTimeOffset? CreatedTo { get; init; }
    public string? OrderBy { get; init; }
    public bool? Ascending { get; init; }
    public int? PageSize { get; init; }
}

/// <summary>One event of a job's stream: a status change, a log line, or the end (<see cref="Status"/> is then final).</summary>
public sealed record JobEvent(string Kind, string? Id, JobStatus? Status, JobLogLine? Line)
{
    public bool IsEnd => Kind == "end";
}

/// <summary>
/// A bulk action (<see cref="JobsClient.BulkAsync"/>): <see cref="Action"/> on the jobs named by <see cref="Ids"/> (1–500)
/// or matched by <see cref="Filter"/> (up to 10,000).
/// </summary>
public sealed record BulkRequest
{
    /// <summary><c>cancel</c>, <c>rerun</c> or <c>delete</c>.</summary>
    public required string Action { get; init; }
    public IReadOnlyList<string>? Ids { get; init; }
    public BulkFilter? Filter { get; init; }

    /// <summary>Confirms an empty filter: every job in reach.</summary>
    public bool All { get; init; }
}

/// <summary>The list's filters, as a bulk action takes them.</summary>
public sealed record BulkFilter
{
    public IReadOnlyList<JobState>? Status { get; init; }
    public IReadOnlyList<string>? Type { get; init; }
    public string? CorrelationId { get; init; }

    /// <summary>Only jobs with every one of these tags.</summary>
    public IReadOnlyList<string>? Tag { get; init; }
    public string? EntityType { get; init; }
    public string? EntityId { get; init; }
    public string? Owner { get; init; }
    public DateTimeOffset? CreatedFrom { get; init; }
    public DateTimeOffset? CreatedTo { get; init; }
}
