using System.Text.Json;

namespace Jobs.Functions.Model;

/// <summary>
/// A job record: the single source of truth a client reads. Immutable; every change is a <c>with</c> expression.
/// It knows nothing of storage: how it is stored (its ETag, its change sequence) is the store's (<c>JobStamp</c>).
/// </summary>
public sealed record Job
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public required JobStatus Status { get; init; }
    public required string Owner { get; init; }

    /// <summary>0–100, never decreasing while the job lives.</summary>
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

    /// <summary>Up to 10 tags (<see cref="JobTags"/>), set at creation: each is an index partition of its own, like an entity's.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string? IdempotencyKey { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Attempt number of the current step (1 = first try).</summary>
    public int Attempt { get; init; }

    /// <summary>Every step attempt the job made, retries included.</summary>
    public int TotalAttempts { get; init; }

    public bool CancelRequested { get; init; }

    /// <summary>The steps that started, in the order they ran: start, end, attempts and how each ended.</summary>
    public IReadOnlyList<JobStepRun> Steps { get; init; } = [];

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>A scheduled start: the job stays pending until then (null: as soon as possible).</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>When a pending or running job is given up as <see cref="JobStatus.TimedOut"/>.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>
    /// 0–9, higher first: the order queued jobs of a type start in (then arrival). Set at creation, by default its
    /// type's (<c>IJobHandler.DefaultPriority</c>).
    /// </summary>
    public int Priority { get; init; }

    /// <summary>
    /// What a per-key concurrency limit counts by (a tenant, a customer): jobs of a type with the same key share the
    /// type's <c>MaxPerKey</c> running slots. Null: the type's default key.
    /// </summary>
    public string? ConcurrencyKey { get; init; }

    /// <summary>The job this one reruns (<c>POST /api/jobs/{id}/rerun</c>); null for a job created afresh.</summary>
    public string? RerunOf { get; init; }

    /// <summary>The latest rerun of this job, once it has one.</summary>
    public string? RerunBy { get; init; }

    /// <summary>
    /// A resumed rerun: the step it started at. The steps before it are the original's — not run again — and that step
    /// was handed the output the original's step before it had returned.
    /// </summary>
    public JobResumePoint? ResumedAt { get; init; }

    /// <summary>
    /// The decision the job waits for (status <see cref="JobStatus.Waiting"/>), or the last one it waited for, with its
    /// answer; null when none was ever asked.
    /// </summary>
    public JobDecision? Decision { get; init; }

    /// <summary>The recurring schedule that created this job (one of its runs; its <see cref="Entity"/> is <c>schedule/{id}</c>).</summary>
    public string? ScheduleId { get; init; }

    /// <summary>
    /// Which create request wrote the record: of concurrent requests with one idempotency key (which share the id and
    /// creation time), the one whose insert landed reports the creation and the others replay it; storage only.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? CreatedBy { get; init; }
}
