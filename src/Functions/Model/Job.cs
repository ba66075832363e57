using System.Text.Json;

namespace Jobs.Functions.Model;

/// <summary>
/// A job record: the single source of truth a client reads. Immutable; every change is a
/// <c>with</c> expression written back under the ETag that was read.
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
    public string? IdempotencyKey { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Attempt number of the current step (1 = first try).</summary>
    public int Attempt { get; init; }

    /// <summary>Every step attempt the job made, retries included.</summary>
    public int TotalAttempts { get; init; }

    public bool CancelRequested { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>A scheduled start: the job stays pending until then (null: as soon as possible).</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>When a pending or running job is given up as <see cref="JobStatus.TimedOut"/>.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>When the job's list rows were last written (its last status change); storage bookkeeping only.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset IndexedAt { get; init; }

    /// <summary>
    /// The <see cref="IndexedAt"/> whose list rows are known to be written (null: none yet). Differs from
    /// <see cref="IndexedAt"/> only between a status change and its projection, or when a projection failed and
    /// still has to be healed; storage bookkeeping only.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? ListedAt { get; init; }

    /// <summary>
    /// The status change before <see cref="IndexedAt"/>, kept by an ending whose list rows are written after its record:
    /// until they are, the "updated" rows of that earlier change may still be listed, and whoever finishes the
    /// projection (a retry, the reconciler, retention) must remove them; storage bookkeeping only.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? PreviousIndexedAt { get; init; }

    /// <summary>
    /// The last status change before <see cref="IndexedAt"/> whose projection was confirmed, and the status it listed
    /// (null: none, the job's first). The counters (<c>JobCounters</c>) count this change as a move from
    /// <see cref="PriorListedStatus"/> to <see cref="Status"/>: a change between the two that was never confirmed is
    /// superseded, and its count row removed; storage bookkeeping only.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? PriorListedAt { get; init; }

    /// <inheritdoc cref="PriorListedAt"/>
    [System.Text.Json.Serialization.JsonIgnore]
    public JobStatus? PriorListedStatus { get; init; }

    /// <summary>
    /// Which create request wrote the record: of concurrent requests with one idempotency key (which share the id and
    /// creation time), the one whose insert landed reports the creation and the others replay it; storage only.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? CreatedBy { get; init; }

    /// <summary>True while the list rows may not show this record's status (see <see cref="ListedAt"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ListingPending => ListedAt != IndexedAt;

    /// <summary>Storage concurrency token; never serialized to clients.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Azure.ETag ETag { get; init; }
}
