using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// Makes and reads a job's audit trail (<see cref="JobAuditEntry"/> rows of the job's partition, <see cref="JobAuditEntity"/>).
/// An entry is not written here but in the transaction of the change it describes: <see cref="JobWrite.Audit"/>, which
/// <see cref="JobStore"/> writes with the record and only with it, so a refused or failed change leaves no entry and an
/// entry never lacks its change. Entries go with their job (<see cref="JobStore.DeleteAsync"/>); the one that says the
/// job was deleted goes to the deletion log, a partition per day that retention prunes.
/// </summary>
public sealed class JobAuditLog(StorageClients clients, TimeProvider time)
{
    public const string RowKeyPrefix = "audit-";

    /// <summary>The end of the audit family's key range ('.' sorts right after '-').</summary>
    public const string RowKeyEnd = "audit.";

    /// <summary>The deletion log's partitions: this, then the UTC day of the deletion as <c>yyyyMMdd</c>.</summary>
    public const string DeletionPartitionPrefix = "audit-deleted-";

    // Audit entries' own sequence, apart from log lines' (their keys are in another family anyway).
    private static long s_sequence;
    private readonly TableClient _table = clients.JobsTable;

    /// <summary>A new entry at the current time.</summary>
    public JobAuditEntry NewEntry(string action, AuditActor actor, params (string Name, string? Value)[] details)
    {
        var at = time.GetUtcNow();
        return JobAuditEntry.Create(LogCursors.At(at, Interlocked.Increment(ref s_sequence) % 1_000_000), at, action, actor, details);
    }

    public static string RowKey(string cursor) => RowKeyPrefix + cursor;

    /// <summary>The transaction action that writes <paramref name="entry"/> in its job's partition (an upsert: a retried transaction leaves one entry).</summary>
    internal static TableTransactionAction Upsert(string jobId, JobAuditEntry entry) =>
        new(TableTransactionActionType.UpsertReplace, JobAuditEntity.FromEntry(jobId, RowKey(entry.Cursor), entry));

    /// <summary>
    /// Writes an entry on its own, for an action whose change is not in the Jobs table (an event raised, a durable history
    /// purged): called once the action has succeeded, so an entry never claims what did not happen.
    /// </summary>
    public async Task AppendAsync(string jobId, JobAuditEntry entry, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(JobAuditEntity.FromEntry(jobId, RowKey(entry.Cursor), entry), TableUpdateMode.Replace, cancellationToken);

    /// <summary>Up to <paramref name="limit"/> entries after the cursor, oldest first (one range read of the job's partition).</summary>
    public async Task<IReadOnlyList<JobAuditEntry>> ReadAsync(string jobId, string? after, int limit, CancellationToken cancellationToken)
    {
        var filter = after is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {jobId} and RowKey ge {RowKeyPrefix} and RowKey lt {RowKeyEnd}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {jobId} and RowKey gt {RowKey(after)} and RowKey lt {RowKeyEnd}");
        var entries = new List<JobAuditEntry>(Math.Min(limit, 1000));
        await foreach (var page in _table.QueryAsync<JobAuditEntity>(filter, maxPerPage: Math.Min(limit, 1000), cancellationToken: cancellationToken).AsPages())
        {
            entries.AddRange(page.Values.Take(limit - entries.Count).Select(e => e.ToEntry(e.RowKey[RowKeyPrefix.Length..])));
            if (entries.Count >= limit)
            {
                break;
            }
        }
        return entries;
    }

    /// <summary>The range filter of a job's audit rows (for deleting them with the job).</summary>
    internal static string RangeFilter(string jobId) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {jobId} and RowKey ge {RowKeyPrefix} and RowKey lt {RowKeyEnd}");

    public static string DeletionPartition(DateTimeOffset day) =>
        DeletionPartitionPrefix + day.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>
    /// Records in the deletion log that <paramref name="job"/> is being deleted (its own trail goes with it). Written
    /// before the job's rows are removed and keyed by the job's id, so a deletion retried the same day is one row;
    /// one retried on a later day may leave a row on each day, never none.
    /// </summary>
    public async Task RecordDeletionAsync(Job job, JobAuditEntry entry, CancellationToken cancellationToken)
    {
        var row = JobAuditEntity.FromEntry(DeletionPartition(entry.At), job.Id, entry);
        row.Cursor = entry.Cursor;
        row.JobOwner = job.Owner;
        row.JobType = job.Type;
        await _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>The deletion log's row of <paramref name="jobId"/> for the day of <paramref name="day"/>, or null.</summary>
    public async Task<JobAuditEntry?> ReadDeletionAsync(string jobId, DateTimeOffset day, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<JobAuditEntity>(DeletionPartition(day), jobId, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value!.ToEntry(response.Value.Cursor ?? "") : null;
    }

    /// <summary>
    /// Removes deletion-log rows of days before <paramref name="cutoff"/>'s, at most <paramref name="max"/> a call (one
    /// range read over the log's old partitions, then one transaction per partition and 100 rows). Returns how many.
    /// </summary>
    public async Task<int> PruneDeletionsAsync(DateTimeOffset cutoff, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {DeletionPartitionPrefix} and PartitionKey lt {DeletionPartition(cutoff)}");
        var rows = new List<TableEntity>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            rows.Add(row);
            if (rows.Count >= max)
            {
                break;
            }
        }
        foreach (var partition in rows.GroupBy(r => r.PartitionKey))
        {
            foreach (var chunk in partition.Chunk(JobLogStore.MaxBatch))
            {
                await _table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken);
            }
        }
        return rows.Count;
    }
}
