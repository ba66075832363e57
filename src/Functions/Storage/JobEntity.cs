using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// The record row of a job (PartitionKey = job id, RowKey = <c>job</c>; see <see cref="TableKeys"/>).
/// JSON payloads are stored as strings; they are bounded by the API so they fit a Table property (64 KiB).
/// </summary>
public sealed class JobEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = TableKeys.RecordRowKey;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Type { get; set; } = "";
    public string Status { get; set; } = "";
    public string Owner { get; set; } = "";
    public int Progress { get; set; }
    public string? Step { get; set; }
    public int StepIndex { get; set; }
    public int StepCount { get; set; }
    public string? Message { get; set; }
    public string? InputJson { get; set; }
    public string? ResultJson { get; set; }
    public string? ErrorMessage { get; set; }
    public string? ErrorType { get; set; }
    public string? ErrorStackTrace { get; set; }
    public string? ErrorStep { get; set; }
    public string? CorrelationId { get; set; }
    public string? EntityType { get; set; }
    public string? EntityId { get; set; }
    public string? IdempotencyKey { get; set; }

    /// <summary>The job's tags as a JSON array (null: none).</summary>
    public string? TagsJson { get; set; }
    public string? MetadataJson { get; set; }

    /// <summary>The step timeline (<see cref="Job.Steps"/>) as JSON; null before the first step.</summary>
    public string? StepsJson { get; set; }
    public int Attempt { get; set; }
    public int TotalAttempts { get; set; }
    public bool CancelRequested { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public DateTimeOffset? Deadline { get; set; }

    /// <summary>The number of the record's last status change (<see cref="JobStamp.Seq"/>): 1 for its creation.</summary>
    public int ChangeSeq { get; set; }

    /// <summary>When the last status change happened: the time the "updated" list rows are keyed by.</summary>
    public DateTimeOffset ChangedAt { get; set; }
    public DateTimeOffset? NotBefore { get; set; }
    public string? CreatedBy { get; set; }
    public string? RerunOf { get; set; }
    public string? RerunBy { get; set; }
    public string? ResumeStep { get; set; }
    public int? ResumeStepIndex { get; set; }
    public string? ScheduleId { get; set; }
    public int Priority { get; set; }
    public string? ConcurrencyKey { get; set; }

    /// <summary>The job's <see cref="Job.Decision"/> as JSON (its payload is bounded: <see cref="JobDecision.MaxPayloadBytes"/>).</summary>
    public string? DecisionJson { get; set; }

    /// <summary>Longest text kept in one column; a Table string property holds at most 32K UTF-16 characters.</summary>
    internal const int MaxColumnChars = 30_000;

    public static JobEntity FromJob(Job job, JobStamp stamp) => new()
    {
        PartitionKey = job.Id,
        RowKey = TableKeys.RecordRowKey,
        ETag = stamp.ETag,
        Type = job.Type,
        Status = job.Status.ToWire(),
        Owner = job.Owner,
        Progress = job.Progress,
        Step = job.Step,
        StepIndex = job.StepIndex,
        StepCount = job.StepCount,
        Message = Truncate(job.Message, 1_000),
        InputJson = job.Input?.GetRawText(),
        ResultJson = job.Result?.GetRawText(),
        ErrorMessage = Truncate(job.Error?.Message, 4_000),
        ErrorType = Truncate(job.Error?.Type, 1_000),
        ErrorStackTrace = Truncate(job.Error?.StackTrace, MaxColumnChars),
        ErrorStep = job.Error?.Step,
        CorrelationId = job.CorrelationId,
        EntityType = job.Entity?.Type,
        EntityId = job.Entity?.Id,
        IdempotencyKey = job.IdempotencyKey,
        TagsJson = job.Tags.Count == 0 ? null : JsonSerializer.Serialize(job.Tags, JobJson.Options),
        MetadataJson = job.Metadata.Count == 0 ? null : JsonSerializer.Serialize(job.Metadata, JobJson.Options),
        StepsJson = StepsColumn(job.Steps),
        Attempt = job.Attempt,
        TotalAttempts = job.TotalAttempts,
        CancelRequested = job.CancelRequested,
        CreatedAt = job.CreatedAt,
        StartedAt = job.StartedAt,
        UpdatedAt = job.UpdatedAt,
        CompletedAt = job.CompletedAt,
        Deadline = job.Deadline,
        ChangeSeq = stamp.Seq,
        ChangedAt = stamp.ChangedAt,
        NotBefore = job.NotBefore,
        CreatedBy = job.CreatedBy,
        RerunOf = job.RerunOf,
        RerunBy = job.RerunBy,
        ResumeStep = job.ResumedAt?.Step,
        ResumeStepIndex = job.ResumedAt?.StepIndex,
        ScheduleId = job.ScheduleId,
        Priority = job.Priority,
        ConcurrencyKey = job.ConcurrencyKey,
        DecisionJson = job.Decision is null ? null : JsonSerializer.Serialize(job.Decision, JobJson.Options),
    };

    /// <summary>The record, with its stamp attached (<see cref="JobStamp.Of"/>).</summary>
    public Job ToJob() => JobStamp.Attach(ToRecord(), new JobStamp(ETag, ChangeSeq, ChangedAt));

    private Job ToRecord() => new()
    {
        Id = PartitionKey,
        Type = Type,
        Status = StoredStatus.Parse(Status, $"Job {PartitionKey}"),
        Owner = Owner,
        Progress = Progress,
        Step = Step,
        StepIndex = StepIndex,
        StepCount = StepCount,
        Message = Message,
        Input = ParseJson(InputJson),
        Result = ParseJson(ResultJson),
        Error = ErrorMessage is null ? null : new JobError(ErrorMessage, ErrorType, ErrorStackTrace, ErrorStep),
        CorrelationId = CorrelationId,
        Entity = EntityType is null || EntityId is null ? null : new EntityRef(EntityType, EntityId),
        IdempotencyKey = IdempotencyKey,
        Steps = StepsJson is null ? [] : JsonSerializer.Deserialize<List<JobStepRun>>(StepsJson, JobJson.Options) ?? [],
        Tags = TagsJson is null ? [] : JsonSerializer.Deserialize<List<string>>(TagsJson, JobJson.Options) ?? [],
        Metadata = MetadataJson is null
            ? new Dictionary<string, string>()
            : JsonSerializer.Deserialize<Dictionary<string, string>>(MetadataJson, JobJson.Options) ?? [],
        Attempt = Attempt,
        TotalAttempts = TotalAttempts,
        CancelRequested = CancelRequested,
        CreatedAt = CreatedAt,
        StartedAt = StartedAt,
        UpdatedAt = UpdatedAt,
        CompletedAt = CompletedAt,
        Deadline = Deadline,
        NotBefore = NotBefore,
        CreatedBy = CreatedBy,
        RerunOf = RerunOf,
        RerunBy = RerunBy,
        ResumedAt = ResumeStep is null || ResumeStepIndex is null ? null : new JobResumePoint(ResumeStep, ResumeStepIndex.Value),
        ScheduleId = ScheduleId,
        Priority = Priority,
        ConcurrencyKey = ConcurrencyKey,
        Decision = DecisionJson is null ? null : JsonSerializer.Deserialize<JobDecision>(DecisionJson, JobJson.Options),
    };

    /// <summary>
    /// The timeline within one column: a type's steps are few, but should a long one overflow, the items' letters go
    /// first (their counts stay), then the earliest steps.
    /// </summary>
    private static string? StepsColumn(IReadOnlyList<JobStepRun> steps)
    {
        if (steps.Count == 0)
        {
            return null;
        }
        var json = JsonSerializer.Serialize(steps, JobJson.Options);
        if (json.Length <= MaxColumnChars)
        {
            return json;
        }
        var compact = steps.Select(s => s.Items is null ? s : s with { Items = s.Items with { States = null } }).ToList();
        while ((json = JsonSerializer.Serialize(compact, JobJson.Options)).Length > MaxColumnChars)
        {
            compact.RemoveAt(0);
        }
        return json;
    }

    private static JsonElement? ParseJson(string? json) =>
        json is null ? null : JsonDocument.Parse(json).RootElement.Clone();

    private static string? Truncate(string? value, int max) =>
        value is null || value.Length <= max ? value : value[..max];
}
