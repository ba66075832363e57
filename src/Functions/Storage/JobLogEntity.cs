using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// One log line, in the <c>Jobs</c> table beside its job's record: PartitionKey = job id, RowKey = <c>log-</c> + the
/// line's cursor (UTC ticks, 19 digits, then a sequence, 6 digits). Sharing the record's partition is what lets a
/// record change and the lines written with it go to storage as one entity-group transaction, and lets one range
/// query read a job's record and its new lines together.
/// </summary>
public sealed class JobLogEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset At { get; set; }
    public string Level { get; set; } = "";
    public string Message { get; set; } = "";
    public string? Step { get; set; }

    public static JobLogEntity FromLine(string jobId, JobLogLine line) => new()
    {
        PartitionKey = jobId,
        RowKey = TableKeys.LogRowKey(line.Cursor),
        At = line.Timestamp,
        Level = line.Level.ToString(),
        Message = line.Message,
        Step = line.Step,
    };

    public JobLogLine ToLine() =>
        new(TableKeys.LogCursor(RowKey), At, Enum.TryParse<JobLogLevel>(Level, out var level) ? level : JobLogLevel.Information, Message, Step);

}
