using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// A row of the live-job index: which job, the deadline its RowKey sorts by, when the row was written, the job
/// as it was when the row was written (<see cref="Job"/>: owner, entity and creation time — enough to find the list
/// rows of a create that never wrote its record), and the last status change projected into every partition.
/// </summary>
public sealed record LiveJobRow(string JobId, DateTimeOffset Deadline, DateTimeOffset? WrittenAt = null, Job? Job = null, int ProjectedSeq = 0);

/// <summary>
/// The live-job index (RowKey family <c>live-</c> of the job's all-jobs bucket, RowKey = deadline ticks + id): every job
/// that is pending or running, and every job whose ending has not been fully projected yet. A creation writes it first
/// (before the record), and the ending's projection removes it last (<see cref="JobProjector"/>), so the reconciler
/// finds every job that still needs attention by reading this one key range — never the whole table. Living in the
/// all-jobs partition lets the row ride in the same transaction as the job's all-jobs list rows.
/// </summary>
public sealed class LiveJobIndex(StorageClients clients, IndexLayout layout)
{
    private readonly TableClient _table = clients.JobsTable;

    /// <summary>
    /// The job's row for its deadline (carrying what finds its list rows), for a transaction of its all-jobs bucket
    /// <paramref name="partition"/> (<see cref="IndexLayout.AllPartitionOf"/>); <paramref name="projectedSeq"/>: the status
    /// change projected everywhere once that transaction commits.
    /// </summary>
    public static TableEntity Row(string partition, Job job, DateTimeOffset deadline, int projectedSeq) => new(partition, TableKeys.ActiveRowKey(deadline, job.Id))
    {
        ["ProjectedSeq"] = projectedSeq,
        ["JobId"] = job.Id,
        ["Type"] = job.Type,
        ["Owner"] = job.Owner,
        ["EntityType"] = job.Entity?.Type,
        ["EntityId"] = job.Entity?.Id,
        ["CreatedAt"] = job.CreatedAt,
    };

    /// <summary>
    /// Writes the job's row ahead of a change that makes it live (its projection rewrites it):
    /// <paramref name="projectedSeq"/> is the change its partitions show until then.
    /// </summary>
    public async Task WatchAsync(Job job, DateTimeOffset deadline, int projectedSeq, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(Row(layout.AllPartitionOf(job.Id), job, deadline, projectedSeq), TableUpdateMode.Replace, cancellationToken);

    /// <summary>Removes the job's row for that deadline; a row already gone is fine.</summary>
    public async Task RemoveAsync(string jobId, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        try
        {
            await _table.DeleteEntityAsync(layout.AllPartitionOf(jobId), TableKeys.ActiveRowKey(deadline, jobId), ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already removed (by the ending's projection, or a repeated visit).
        }
    }

    public static bool IsLive(Job job) => IsLive(job.Status);

    /// <summary>Pending, queued, running and waiting jobs are live: they have a live-job row, by their deadline.</summary>
    public static bool IsLive(JobStatus status) => status is JobStatus.Pending or JobStatus.Queued or JobStatus.Running or JobStatus.Waiting;

    /// <summary>
    /// Rows with a deadline before <paramref name="before"/> (all rows when null), earliest deadline first, at most
    /// <paramref name="max"/>: one range read per all-jobs bucket, merged.
    /// </summary>
    public async Task<IReadOnlyList<LiveJobRow>> ReadAsync(DateTimeOffset? before, int max, CancellationToken cancellationToken)
    {
        var upper = before is { } time ? TableKeys.ActiveRowKeyPrefix + TableKeys.TimeKey(IndexFamily.CreatedAscending, time) : TableKeys.ActiveRowKeyEnd;
        var rows = new List<TableEntity>();
        foreach (var partition in layout.PartitionsOf(new JobListScope.All()))
        {
            var filter = TableClient.CreateQueryFilter(
                $"PartitionKey eq {partition} and RowKey ge {TableKeys.ActiveRowKeyPrefix} and RowKey lt {upper}");
            var inBucket = 0;
            await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: cancellationToken))
            {
                rows.Add(row);
                if (++inBucket >= max)
                {
                    break; // the earliest `max` of this bucket are all that can make the merged first `max`
                }
            }
        }
        return [.. rows.OrderBy(r => r.RowKey, StringComparer.Ordinal).Take(max).Select(ToRow)];
    }

    private static LiveJobRow ToRow(TableEntity row)
    {
        var id = row.GetString("JobId");
        var deadline = TableKeys.ActiveDeadline(row.RowKey);
        Job? job = row.GetString("Owner") is { } owner && row.GetDateTimeOffset("CreatedAt") is { } created
            ? new Job
            {
                Id = id,
                Type = row.GetString("Type") ?? "",
                Status = JobStatus.Pending,
                Owner = owner,
                Entity = row.GetString("EntityType") is { } entityType && row.GetString("EntityId") is { } entityId ? new EntityRef(entityType, entityId) : null,
                CreatedAt = created,
                Deadline = deadline,
            }
            : null;
        return new LiveJobRow(id, deadline, row.Timestamp, job, row.GetInt32("ProjectedSeq") ?? 0);
    }
}
