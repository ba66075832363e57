using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>A row of the live-job index: which job, the deadline its RowKey sorts by, and when the row was written.</summary>
public sealed record LiveJobRow(string JobId, DateTimeOffset Deadline, DateTimeOffset? WrittenAt = null);

/// <summary>
/// The live-job index (<c>idx-active</c>, RowKey = deadline ticks + id): every job that is pending or running, and
/// every job whose ending has not been fully projected yet. It is written before a job becomes live and removed
/// only after its terminal state is projected, so the reconciler finds every job that still needs attention by
/// reading this one small partition — never the whole table.
/// </summary>
public sealed class LiveJobIndex(StorageClients clients)
{
    private readonly TableClient _table = clients.JobsTable;

    /// <summary>Adds (or keeps) the job's row for its deadline. Idempotent.</summary>
    public async Task AddAsync(string jobId, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var row = new TableEntity(TableKeys.ActivePartition, TableKeys.ActiveRowKey(deadline, jobId)) { ["JobId"] = jobId };
        await _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>Removes the job's row for that deadline; a row already gone is fine.</summary>
    public async Task RemoveAsync(string jobId, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        try
        {
            await _table.DeleteEntityAsync(TableKeys.ActivePartition, TableKeys.ActiveRowKey(deadline, jobId), ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already removed (a retried or repeated ending).
        }
    }

    /// <summary>Keeps the index in step with a record: a row while it is live, none once it is not.</summary>
    public Task SyncAsync(Job job, CancellationToken cancellationToken) =>
        job.Deadline is not { } deadline ? Task.CompletedTask
        : IsLive(job) ? AddAsync(job.Id, deadline, cancellationToken)
        : RemoveAsync(job.Id, deadline, cancellationToken);

    public static bool IsLive(Job job) => job.Status is JobStatus.Pending or JobStatus.Running;

    /// <summary>Rows with a deadline before <paramref name="before"/> (all rows when null), earliest deadline first.</summary>
    public async Task<IReadOnlyList<LiveJobRow>> ReadAsync(DateTimeOffset? before, int max, CancellationToken cancellationToken)
    {
        var rows = new List<LiveJobRow>();
        var filter = before is { } time
            ? TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.ActivePartition} and RowKey lt {TableKeys.TimeKey(IndexFamily.CreatedAscending, time)}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.ActivePartition}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), select: ["RowKey", "JobId", "Timestamp"], cancellationToken: cancellationToken))
        {
            rows.Add(new LiveJobRow(row.GetString("JobId"), TableKeys.ActiveDeadline(row.RowKey), row.Timestamp));
            if (rows.Count >= max)
            {
                break;
            }
        }
        return rows;
    }
}
