using Azure;
using Azure.Data.Tables;

namespace Jobs.Functions.Storage;

/// <summary>
/// One log line. PartitionKey = job id, RowKey = UTC ticks (19 digits) + a per-process sequence, so a range
/// query returns lines in order and the last RowKey read is the cursor for the next.
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
}
