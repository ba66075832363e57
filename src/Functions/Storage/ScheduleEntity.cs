using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Schedules;

namespace Jobs.Functions.Storage;

/// <summary>
/// The record row of a schedule (PartitionKey = <c>sched</c>, RowKey = <c>s-{owner}-{id}</c>; see
/// <see cref="TableKeys.SchedulePartition"/>). Input and the occurrences being fired are JSON text.
/// </summary>
public sealed class ScheduleEntity : ITableEntity
{
    public string PartitionKey { get; set; } = TableKeys.SchedulePartition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Id { get; set; } = "";
    public string Owner { get; set; } = "";
    public string Type { get; set; } = "";
    public string? InputJson { get; set; }
    public string Cron { get; set; } = "";
    public string TimeZone { get; set; } = "";
    public string Overlap { get; set; } = "";
    public string CatchUp { get; set; } = "";
    public int CatchUpLimit { get; set; }
    public bool Paused { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? NextAt { get; set; }
    public DateTimeOffset? HeldOccurrence { get; set; }
    public DateTimeOffset? HeldCheckAt { get; set; }
    public DateTimeOffset? LastOccurrence { get; set; }
    public string? LastJobId { get; set; }
    public long SkippedCount { get; set; }
    public string? FiringJson { get; set; }

    /// <summary>The due time the schedule's due row was written with (null: it has none), so a change can remove it.</summary>
    public DateTimeOffset? DueAt { get; set; }

    public static ScheduleEntity From(Schedule schedule, ETag etag) => new()
    {
        RowKey = TableKeys.ScheduleRowKey(schedule.Owner, schedule.Id),
        ETag = etag,
        Id = schedule.Id,
        Owner = schedule.Owner,
        Type = schedule.Type,
        InputJson = schedule.Input?.GetRawText(),
        Cron = schedule.Cron,
        TimeZone = schedule.TimeZone,
        Overlap = JobJson.EnumNaming.ConvertName(schedule.Overlap.ToString()),
        CatchUp = JobJson.EnumNaming.ConvertName(schedule.CatchUp.ToString()),
        CatchUpLimit = schedule.CatchUpLimit,
        Paused = schedule.Paused,
        CreatedAt = schedule.CreatedAt,
        UpdatedAt = schedule.UpdatedAt,
        NextAt = schedule.NextAt,
        HeldOccurrence = schedule.HeldOccurrence,
        HeldCheckAt = schedule.HeldCheckAt,
        LastOccurrence = schedule.LastOccurrence,
        LastJobId = schedule.LastJobId,
        SkippedCount = schedule.SkippedCount,
        FiringJson = schedule.Firing.Count == 0 ? null : JsonSerializer.Serialize(schedule.Firing, JobJson.Options),
        DueAt = schedule.DueAt,
    };

    public Schedule ToSchedule() => new()
    {
        Id = Id,
        Owner = Owner,
        Type = Type,
        Input = InputJson is null ? null : JsonDocument.Parse(InputJson).RootElement.Clone(),
        Cron = Cron,
        TimeZone = TimeZone,
        Overlap = ParseEnum<OverlapPolicy>(Overlap),
        CatchUp = ParseEnum<CatchUpPolicy>(CatchUp),
        CatchUpLimit = CatchUpLimit,
        Paused = Paused,
        CreatedAt = CreatedAt,
        UpdatedAt = UpdatedAt,
        NextAt = NextAt,
        HeldOccurrence = HeldOccurrence,
        HeldCheckAt = HeldCheckAt,
        LastOccurrence = LastOccurrence,
        LastJobId = LastJobId,
        SkippedCount = SkippedCount,
        Firing = FiringJson is null ? [] : JsonSerializer.Deserialize<List<DateTimeOffset>>(FiringJson, JobJson.Options) ?? [],
    };

    /// <summary>A stored value the code does not know is an error, never a default.</summary>
    private T ParseEnum<T>(string wire) where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            if (JobJson.EnumNaming.ConvertName(value.ToString()) == wire)
            {
                return value;
            }
        }
        throw new InvalidOperationException($"Schedule {Id} has an unknown {typeof(T).Name} '{wire}'.");
    }
}
