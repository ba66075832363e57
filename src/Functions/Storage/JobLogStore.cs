using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>Appends and tails job log lines (table <c>JobLogs</c>, one partition per job).</summary>
public sealed class JobLogStore(StorageClients clients, TimeProvider time)
{
    private const int MaxMessageChars = 8_000;
    private static long s_sequence;
    private readonly TableClient _table = clients.JobLogsTable;

    /// <summary>Appends one line, at the current time.</summary>
    public Task<JobLogLine> AppendAsync(string jobId, JobLogLevel level, string message, string? step, CancellationToken cancellationToken) =>
        AppendCoreAsync(jobId, level, message, step, time.GetUtcNow(), Interlocked.Increment(ref s_sequence) % StableSequenceBase, cancellationToken);

    /// <summary>
    /// Appends a line whose key is fixed by the caller — a time the orchestration recorded and a number unique within
    /// the job — so writing it again (a retried or re-delivered activity) leaves one line, not two.
    /// </summary>
    public Task<JobLogLine> AppendOnceAsync(string jobId, JobLogLevel level, string message, string? step, DateTimeOffset at, int number, CancellationToken cancellationToken) =>
        AppendCoreAsync(jobId, level, message, step, at, StableSequenceBase + number % StableSequenceBase, cancellationToken);

    // Sequences of ordinary lines stay below this; lines written once use it and above, so the two never collide.
    private const long StableSequenceBase = 900_000;

    private async Task<JobLogLine> AppendCoreAsync(
        string jobId, JobLogLevel level, string message, string? step, DateTimeOffset now, long sequence, CancellationToken cancellationToken)
    {
        // The sequence keeps lines written in the same tick distinct and ordered within this process.
        var entity = new JobLogEntity
        {
            PartitionKey = jobId,
            RowKey = now.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + sequence.ToString("D6", CultureInfo.InvariantCulture),
            At = now,
            Level = level.ToString(),
            Message = message.Length <= MaxMessageChars ? message : message[..MaxMessageChars],
            Step = step,
        };
        try
        {
            await _table.AddEntityAsync(entity, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // The same RowKey is this very line: the storage client retried an insert whose first answer was lost,
            // or a line written once (AppendOnceAsync) is written again. Either way it is there.
        }
        return ToLine(entity);
    }

    /// <summary>Up to <paramref name="limit"/> lines after the cursor, oldest first.</summary>
    public async Task<IReadOnlyList<JobLogLine>> ReadAsync(string jobId, string? after, int limit, CancellationToken cancellationToken)
    {
        var filter = after is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {jobId}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {jobId} and RowKey gt {after}");
        var lines = new List<JobLogLine>(limit);
        await foreach (var page in _table.QueryAsync<JobLogEntity>(filter, maxPerPage: limit, cancellationToken: cancellationToken).AsPages())
        {
            lines.AddRange(page.Values.Take(limit - lines.Count).Select(ToLine));
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
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {jobId}");
        var keys = new List<TableTransactionAction>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            keys.Add(new TableTransactionAction(TableTransactionActionType.Delete, entity, ETag.All));
        }
        foreach (var batch in keys.Chunk(100))
        {
            await _table.SubmitTransactionAsync(batch, cancellationToken);
            deleted += batch.Length;
        }
        return deleted;
    }

    private static JobLogLine ToLine(JobLogEntity e) =>
        new(e.RowKey, e.At, Enum.TryParse<JobLogLevel>(e.Level, out var level) ? level : JobLogLevel.Information, e.Message, e.Step);
}
