using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// Makes, writes and tails job log lines (rows of the job's partition in <c>Jobs</c>, see <see cref="JobLogEntity"/>).
/// A line gets its key when it is made, so writing it again — a retried batch, a line carried to the next activity —
/// leaves one line, not two. Most lines are not written here but in the same transaction as the record change they
/// belong to (<see cref="JobStore"/>); this class writes the rest.
/// </summary>
public sealed class JobLogStore(StorageClients clients, JobChangeFeed changes, TimeProvider time)
{
    private const int MaxMessageChars = 8_000;

    /// <summary>Entities per entity-group transaction, a limit of Table storage.</summary>
    internal const int MaxBatch = 100;

    // Sequences of ordinary lines stay below this; lines written once use it and above, so the two never collide.
    private const long StableSequenceBase = 900_000;
    private static long s_sequence;
    private readonly TableClient _table = clients.JobsTable;

    /// <summary>A new line at the current time; the sequence keeps lines of the same tick distinct and ordered within this process.</summary>
    public JobLogLine NewLine(JobLogLevel level, string message, string? step) =>
        Line(time.GetUtcNow(), Interlocked.Increment(ref s_sequence) % StableSequenceBase, level, message, step);

    /// <summary>
    /// A line whose key is fixed by the caller — a time the orchestration recorded and a number unique within the job —
    /// so however often it is made and written (a retried or re-delivered activity), the job has it once.
    /// </summary>
    public static JobLogLine OnceLine(DateTimeOffset at, int number, JobLogLevel level, string message, string? step) =>
        Line(at, StableSequenceBase + number % StableSequenceBase, level, message, step);

    private static JobLogLine Line(DateTimeOffset at, long sequence, JobLogLevel level, string message, string? step) =>
        new(LogCursors.At(at, sequence), at, level, message.Length <= MaxMessageChars ? message : message[..MaxMessageChars], step);

    /// <summary>Makes and writes one line now (one request).</summary>
    public async Task<JobLogLine> AppendAsync(string jobId, JobLogLevel level, string message, string? step, CancellationToken cancellationToken)
    {
        var line = NewLine(level, message, step);
        await WriteAsync(jobId, [line], cancellationToken);
        return line;
    }

    /// <summary>Writes lines (upserts: a line written before stays one line), one transaction per 100.</summary>
    public async Task WriteAsync(string jobId, IReadOnlyCollection<JobLogLine> lines, CancellationToken cancellationToken)
    {
        foreach (var chunk in Distinct(lines).Chunk(MaxBatch))
        {
            await _table.SubmitTransactionAsync(chunk.Select(line => Upsert(jobId, line)), cancellationToken);
            changes.Publish(jobId, null, chunk);
        }
    }

    /// <summary>Each line once (by its key, the first kept): a transaction may not name one row twice.</summary>
    internal static IReadOnlyList<JobLogLine> Distinct(IEnumerable<JobLogLine> lines) => [.. lines.DistinctBy(line => line.Cursor, StringComparer.Ordinal)];

    /// <summary>The transaction action that writes <paramref name="line"/>: an upsert, so writing it twice is harmless.</summary>
    internal static TableTransactionAction Upsert(string jobId, JobLogLine line) =>
        new(TableTransactionActionType.UpsertReplace, JobLogEntity.FromLine(jobId, line));

    /// <summary>Up to <paramref name="limit"/> lines after the cursor, oldest first.</summary>
    public async Task<IReadOnlyList<JobLogLine>> ReadAsync(string jobId, string? after, int limit, CancellationToken cancellationToken)
    {
        var lower = after is null ? TableKeys.LogRowKeyPrefix : TableKeys.LogRowKey(after);
        var filter = after is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {jobId} and RowKey ge {lower} and RowKey lt {TableKeys.LogRowKeyEnd}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {jobId} and RowKey gt {lower} and RowKey lt {TableKeys.LogRowKeyEnd}");
        var lines = new List<JobLogLine>(Math.Min(limit, 1000));
        await foreach (var page in _table.QueryAsync<JobLogEntity>(filter, maxPerPage: Math.Min(limit, 1000), cancellationToken: cancellationToken).AsPages())
        {
            lines.AddRange(page.Values.Take(limit - lines.Count).Select(e => e.ToLine()));
            if (lines.Count >= limit)
            {
                break;
            }
        }
        return lines;
    }

    /// <summary>Deletes every line of a job, in entity-group batches of 100.</summary>
    public async Task<int> DeleteAllAsync(string jobId, CancellationToken cancellationToken)
    {
        var deleted = 0;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {jobId} and RowKey ge {TableKeys.LogRowKeyPrefix} and RowKey lt {TableKeys.LogRowKeyEnd}");
        var keys = new List<TableTransactionAction>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            keys.Add(new TableTransactionAction(TableTransactionActionType.Delete, entity, ETag.All));
        }
        foreach (var batch in keys.Chunk(MaxBatch))
        {
            await _table.SubmitTransactionAsync(batch, cancellationToken);
            deleted += batch.Length;
        }
        return deleted;
    }
}
