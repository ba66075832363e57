using System.Reflection;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>A job's record and the log lines after a cursor, read together.</summary>
public sealed record JobSnapshot(Job? Job, IReadOnlyList<JobLogLine> Lines);

/// <summary>
/// Reads a job's record and its new log lines in one range query of the job's partition — they live side by side
/// (<see cref="JobLogEntity"/>) — so a watcher that wants both pays one request per look, as a poller of
/// <c>/status</c> alone would.
/// </summary>
public sealed class JobPartitionReader(StorageClients clients)
{
    private readonly TableClient _table = clients.JobsTable;

    /// <summary>The record (null if there is none) and up to <paramref name="maxLines"/> lines after <paramref name="afterCursor"/>, oldest first.</summary>
    public async Task<JobSnapshot> ReadAsync(string jobId, string? afterCursor, int maxLines, CancellationToken cancellationToken)
    {
        var lines = afterCursor is null
            ? TableClient.CreateQueryFilter($"RowKey ge {TableKeys.LogRowKeyPrefix} and RowKey lt {TableKeys.LogRowKeyEnd}")
            : TableClient.CreateQueryFilter($"RowKey gt {TableKeys.LogRowKey(afterCursor)} and RowKey lt {TableKeys.LogRowKeyEnd}");
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {jobId}") + " and ("
            + TableClient.CreateQueryFilter($"RowKey eq {TableKeys.RecordRowKey}") + " or (" + lines + "))";
        Job? job = null;
        var found = new List<JobLogLine>();
        // Rows come in RowKey order: the record ('job') sorts before every line ('log-…').
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(maxLines + 1, 1000), cancellationToken: cancellationToken))
        {
            if (row.RowKey == TableKeys.RecordRowKey)
            {
                job = As<JobEntity>(row).ToJob();
                continue;
            }
            found.Add(As<JobLogEntity>(row).ToLine());
            if (found.Count >= maxLines)
            {
                break;
            }
        }
        return new JobSnapshot(job, found);
    }

    /// <summary>A row read untyped (the partition holds two kinds) as the entity class of its kind.</summary>
    internal static T As<T>(TableEntity row) where T : ITableEntity, new()
    {
        var entity = new T { PartitionKey = row.PartitionKey, RowKey = row.RowKey, Timestamp = row.Timestamp, ETag = row.ETag };
        foreach (var property in Properties<T>.Writable)
        {
            if (row.TryGetValue(property.Name, out var value) && value is not null)
            {
                var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                property.SetValue(entity, type.IsInstanceOfType(value) ? value : Convert.ChangeType(value, type, System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return entity;
    }

    private static class Properties<T>
    {
        public static readonly PropertyInfo[] Writable = [.. typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.Name is not (nameof(ITableEntity.PartitionKey) or nameof(ITableEntity.RowKey) or nameof(ITableEntity.Timestamp) or nameof(ITableEntity.ETag)))];
    }
}
