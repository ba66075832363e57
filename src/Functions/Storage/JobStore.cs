using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Storage;

/// <summary>The result of a conditional update: the job as stored afterwards, and whether this call changed it.</summary>
public sealed record JobUpdate(Job Job, bool Changed);

/// <summary>
/// Reads and writes job records and their index rows. Every update is read–change–write under the ETag that
/// was read; on a 412 the change is re-applied to the fresh record, never written blind.
/// </summary>
public sealed partial class JobStore(StorageClients clients, TimeProvider time, ILogger<JobStore> logger)
{
    private const int MaxConflictRetries = 16;
    private readonly TableClient _table = clients.JobsTable;

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Inserts a new record (409 from storage if the id exists), then its index rows.</summary>
    public async Task<Job> CreateAsync(Job job, CancellationToken cancellationToken)
    {
        var response = await _table.AddEntityAsync(JobEntity.FromJob(job), cancellationToken);
        var created = job with { ETag = response.Headers.ETag ?? default };
        await WriteIndexRowsAsync(created, cancellationToken);
        return created;
    }

    public async Task<Job?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<JobEntity>(id, TableKeys.RecordRowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value!.ToJob() : null;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current record and writes it under its ETag. The change returns
    /// null to leave the record alone. Returns null when the job does not exist.
    /// </summary>
    public Task<JobUpdate?> UpdateAsync(string id, Func<Job, Job?> change, CancellationToken cancellationToken) =>
        UpdateCoreAsync(id, null, change, cancellationToken);

    /// <summary>As above, starting from a record just read (saves a read; re-reads only on a conflict).</summary>
    public Task<JobUpdate?> UpdateAsync(Job known, Func<Job, Job?> change, CancellationToken cancellationToken) =>
        UpdateCoreAsync(known.Id, known, change, cancellationToken);

    private async Task<JobUpdate?> UpdateCoreAsync(string id, Job? known, Func<Job, Job?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = known ?? await GetAsync(id, cancellationToken);
            known = null;
            if (current is null)
            {
                return null;
            }
            var next = change(current);
            if (next is null || next == current)
            {
                return new JobUpdate(current, false);
            }
            next = next with { UpdatedAt = Now };
            try
            {
                var response = await _table.UpdateEntityAsync(JobEntity.FromJob(next), current.ETag, TableUpdateMode.Replace, cancellationToken);
                var stored = next with { ETag = response.Headers.ETag ?? default };
                if (stored.Status != current.Status)
                {
                    await WriteIndexRowsAsync(stored, cancellationToken);
                }
                return new JobUpdate(stored, true);
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxConflictRetries)
            {
                LogConflict(id, attempt);
            }
        }
    }

    /// <summary>Reads one page from an index partition, newest first; filters run in the query, never in memory by string.</summary>
    public async Task<JobPage> ListAsync(JobListQuery query, CancellationToken cancellationToken)
    {
        var filter = BuildFilter(query);
        var wanted = query.Limit + 1;
        var rows = new List<JobIndexEntity>(wanted);
        var requests = 0;
        await foreach (var page in _table.QueryAsync<JobIndexEntity>(filter, maxPerPage: Math.Min(1000, wanted), cancellationToken: cancellationToken).AsPages())
        {
            requests++;
            rows.AddRange(page.Values);
            if (rows.Count >= wanted)
            {
                break;
            }
        }
        var pageRows = rows.Take(query.Limit).ToList();
        var next = rows.Count > query.Limit ? pageRows[^1].RowKey : null;
        var jobs = pageRows.Select(r => new JobSummary(
            r.JobId, r.Type, JobStatusExtensions.TryParseWire(r.Status, out var s) ? s : JobStatus.Pending, r.Owner,
            r.EntityType is null || r.EntityId is null ? null : new EntityRef(r.EntityType, r.EntityId),
            r.CorrelationId, r.CreatedAt, r.UpdatedAt)).ToList();
        return new JobPage(jobs, next, requests, rows.Count);
    }

    internal static string BuildFilter(JobListQuery query)
    {
        var partition = query.Scope.Partition;
        var clauses = new List<string> { TableClient.CreateQueryFilter($"PartitionKey eq {partition}") };
        if (query.After is { } after)
        {
            clauses.Add(TableClient.CreateQueryFilter($"RowKey gt {after}"));
        }
        if (query.CreatedTo is { } to)
        {
            clauses.Add(TableClient.CreateQueryFilter($"RowKey ge {TableKeys.IndexRowKey(to, "")}"));
        }
        if (query.CreatedFrom is { } from)
        {
            // Every RowKey of that instant starts with its inverted ticks then '-'; '.' sorts right after '-'.
            clauses.Add(TableClient.CreateQueryFilter($"RowKey lt {TableKeys.IndexRowKey(from, "").TrimEnd('-') + "."}"));
        }
        if (query.Statuses.Count > 0)
        {
            clauses.Add(AnyOf(query.Statuses.Select(s => TableClient.CreateQueryFilter($"Status eq {s.ToWire()}"))));
        }
        if (query.Types.Count > 0)
        {
            clauses.Add(AnyOf(query.Types.Select(t => TableClient.CreateQueryFilter($"Type eq {t}"))));
        }
        if (query.Owner is { } owner)
        {
            clauses.Add(TableClient.CreateQueryFilter($"Owner eq {owner}"));
        }
        return string.Join(" and ", clauses);
    }

    // Each part is already a parameterised filter from CreateQueryFilter; only those are joined.
    private static string AnyOf(IEnumerable<string> parts) => "(" + string.Join(" or ", parts) + ")";

    /// <summary>Deletes the record and its index rows; missing rows are fine (a retried purge).</summary>
    public async Task DeleteAsync(Job job, CancellationToken cancellationToken)
    {
        foreach (var row in JobIndexEntity.For(job))
        {
            await _table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
        }
        if (job.IdempotencyKey is { } key)
        {
            await _table.DeleteEntityAsync(TableKeys.IdempotencyPartition(job.Owner), TableKeys.IdempotencyRowKey(key), ETag.All, cancellationToken);
        }
        await _table.DeleteEntityAsync(job.Id, TableKeys.RecordRowKey, ETag.All, cancellationToken);
    }

    private async Task WriteIndexRowsAsync(Job job, CancellationToken cancellationToken)
    {
        // Index rows are projections of the record, rewritten after it: last writer wins is the intent here.
        foreach (var row in JobIndexEntity.For(job))
        {
            await _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} changed under us (attempt {Attempt}); re-reading.")]
    private partial void LogConflict(string jobId, int attempt);
}
