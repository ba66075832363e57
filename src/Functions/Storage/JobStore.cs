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
        job = job with { IndexedAt = job.CreatedAt };
        var response = await _table.AddEntityAsync(JobEntity.FromJob(job), cancellationToken);
        var created = job with { ETag = response.Headers.ETag ?? default };
        await WriteIndexRowsAsync(created, null, cancellationToken);
        await WriteActiveRowAsync(created, null, cancellationToken);
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
            var now = Now;
            next = next with { UpdatedAt = now, IndexedAt = next.Status != current.Status ? now : current.IndexedAt };
            try
            {
                var response = await _table.UpdateEntityAsync(JobEntity.FromJob(next), current.ETag, TableUpdateMode.Replace, cancellationToken);
                var stored = next with { ETag = response.Headers.ETag ?? default };
                if (stored.Status != current.Status)
                {
                    await WriteIndexRowsAsync(stored, current.IndexedAt, cancellationToken);
                    await WriteActiveRowAsync(stored, current, cancellationToken);
                }
                return new JobUpdate(stored, true);
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxConflictRetries)
            {
                LogConflict(id, attempt);
            }
        }
    }

    /// <summary>
    /// Reads one page from an index partition as range queries over one RowKey family; type and status orders
    /// walk that family once per value (a "phase"). Filters go through the SDK's filter builder, never by hand.
    /// </summary>
    public async Task<JobPage> ListAsync(JobListQuery query, CancellationToken cancellationToken)
    {
        var phases = Phases(query);
        var wanted = query.Limit + 1;
        var rows = new List<(int Phase, JobIndexEntity Row)>(wanted);
        var skip = query.Offset;
        var requests = 0;
        var read = 0;
        var first = query.After?.Phase ?? 0;
        for (var phase = first; phase < phases.Count && rows.Count < wanted; phase++)
        {
            var filter = BuildFilter(query, phases[phase], phase == first ? query.After?.RowKey : null);
            var perPage = Math.Min(1000, wanted - rows.Count + skip);
            await foreach (var page in _table.QueryAsync<JobIndexEntity>(filter, maxPerPage: perPage, cancellationToken: cancellationToken).AsPages())
            {
                requests++;
                foreach (var row in page.Values)
                {
                    read++;
                    if (skip > 0)
                    {
                        skip--;
                    }
                    else if (rows.Count < wanted)
                    {
                        rows.Add((phase, row));
                    }
                }
                if (rows.Count >= wanted)
                {
                    break;
                }
            }
        }
        var pageRows = rows.Take(query.Limit).ToList();
        var next = rows.Count > query.Limit ? new ListCursor(pageRows[^1].Phase, pageRows[^1].Row.RowKey) : null;
        var jobs = pageRows.Select(r => new JobSummary(
            r.Row.JobId, r.Row.Type, JobStatusExtensions.TryParseWire(r.Row.Status, out var s) ? s : JobStatus.Pending, r.Row.Owner,
            r.Row.EntityType is null || r.Row.EntityId is null ? null : new EntityRef(r.Row.EntityType, r.Row.EntityId),
            r.Row.CorrelationId, r.Row.CreatedAt, r.Row.UpdatedAt)).ToList();
        return new JobPage(jobs, next, requests, read);
    }

    /// <summary>The extra clause of each phase: one for time orders, one per value (in order) for type and status.</summary>
    internal static IReadOnlyList<string?> Phases(JobListQuery query)
    {
        IEnumerable<string> values;
        switch (query.OrderBy)
        {
            case JobOrder.Status:
                values = (query.Statuses.Count > 0 ? (IEnumerable<JobStatus>)query.Statuses : Enum.GetValues<JobStatus>()).Select(s => s.ToWire()).Order(StringComparer.Ordinal);
                return [.. (query.Descending ? values.Reverse() : values).Select(v => TableClient.CreateQueryFilter($"Status eq {v}"))];
            case JobOrder.Type:
                values = (query.Types.Count > 0 ? (IEnumerable<string>)query.Types : query.KnownTypes).Order(StringComparer.Ordinal);
                return [.. (query.Descending ? values.Reverse() : values).Select(v => TableClient.CreateQueryFilter($"Type eq {v}"))];
            default:
                return [null];
        }
    }

    internal static string BuildFilter(JobListQuery query, string? phase = null, string? after = null)
    {
        var family = query.Family;
        var prefix = TableKeys.FamilyPrefix(family);
        var descending = family is IndexFamily.CreatedDescending or IndexFamily.UpdatedDescending;
        var created = family is IndexFamily.CreatedDescending or IndexFamily.CreatedAscending;
        // The family's RowKeys lie in [prefix, prefix with '-' replaced by '.'): '.' sorts right after '-'.
        var lower = prefix;
        var upper = prefix[..^1] + ".";
        if (created)
        {
            // Creation time is in the RowKey, so a time window narrows the key range itself.
            if ((descending ? query.CreatedTo : query.CreatedFrom) is { } low)
            {
                lower = prefix + TableKeys.TimeKey(family, low);
            }
            if ((descending ? query.CreatedFrom : query.CreatedTo) is { } high)
            {
                upper = prefix + TableKeys.TimeKey(family, high) + ".";
            }
        }
        var partition = query.Scope.Partition;
        var clauses = new List<string>
        {
            TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {lower} and RowKey lt {upper}"),
        };
        if (after is not null)
        {
            clauses.Add(TableClient.CreateQueryFilter($"RowKey gt {after}"));
        }
        if (!created && query.CreatedFrom is { } from)
        {
            clauses.Add(TableClient.CreateQueryFilter($"CreatedAt ge {from}"));
        }
        if (!created && query.CreatedTo is { } to)
        {
            clauses.Add(TableClient.CreateQueryFilter($"CreatedAt le {to}"));
        }
        if (query.Statuses.Count > 0 && query.OrderBy != JobOrder.Status)
        {
            clauses.Add(AnyOf(query.Statuses.Select(s => TableClient.CreateQueryFilter($"Status eq {s.ToWire()}"))));
        }
        if (query.Types.Count > 0 && query.OrderBy != JobOrder.Type)
        {
            clauses.Add(AnyOf(query.Types.Select(t => TableClient.CreateQueryFilter($"Type eq {t}"))));
        }
        if (query.Owner is { } owner)
        {
            clauses.Add(TableClient.CreateQueryFilter($"Owner eq {owner}"));
        }
        if (phase is not null)
        {
            clauses.Add(phase);
        }
        return string.Join(" and ", clauses);
    }

    // Each part is already a parameterised filter from CreateQueryFilter; only those are joined.
    private static string AnyOf(IEnumerable<string> parts) => "(" + string.Join(" or ", parts) + ")";

    /// <summary>Deletes the record, its index rows and its idempotency claim; missing rows are fine (a retried purge).</summary>
    public async Task DeleteAsync(Job job, CancellationToken cancellationToken)
    {
        foreach (var partition in JobIndexEntity.Partitions(job))
        {
            var rows = JobIndexEntity.Rows(job, partition, job.IndexedAt).ToList();
            try
            {
                // One request per scope; a batch fails whole if a row is already gone (a retried purge).
                await _table.SubmitTransactionAsync(rows.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                foreach (var row in rows)
                {
                    await _table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
                }
            }
        }
        if (job.IdempotencyKey is { } key)
        {
            await _table.DeleteEntityAsync(TableKeys.IdempotencyPartition(job.Owner), TableKeys.IdempotencyRowKey(key), ETag.All, cancellationToken);
        }
        if (job.Deadline is { } deadline)
        {
            await _table.DeleteEntityAsync(TableKeys.ActivePartition, TableKeys.ActiveRowKey(deadline, job.Id), ETag.All, cancellationToken);
        }
        await _table.DeleteEntityAsync(job.Id, TableKeys.RecordRowKey, ETag.All, cancellationToken);
    }

    /// <summary>Ids of live jobs whose deadline has passed, oldest deadline first.</summary>
    public async Task<IReadOnlyList<string>> PastDeadlineAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {TableKeys.ActivePartition} and RowKey lt {TableKeys.TimeKey(IndexFamily.CreatedAscending, now)}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), select: ["JobId"], cancellationToken: cancellationToken))
        {
            ids.Add(row.GetString("JobId"));
            if (ids.Count >= max)
            {
                break;
            }
        }
        return ids;
    }

    private static bool IsLive(Job? job) => job is { Status: JobStatus.Pending or JobStatus.Running, Deadline: not null };

    /// <summary>Keeps the job's row in <c>idx-active</c> while it is live, and removes it when it ends.</summary>
    private async Task WriteActiveRowAsync(Job job, Job? previous, CancellationToken cancellationToken)
    {
        if (IsLive(job) && !(IsLive(previous) && previous!.Deadline == job.Deadline))
        {
            var row = new TableEntity(TableKeys.ActivePartition, TableKeys.ActiveRowKey(job.Deadline!.Value, job.Id)) { ["JobId"] = job.Id };
            await _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
        }
        else if (!IsLive(job) && IsLive(previous))
        {
            await _table.DeleteEntityAsync(TableKeys.ActivePartition, TableKeys.ActiveRowKey(previous!.Deadline!.Value, job.Id), ETag.All, cancellationToken);
        }
    }

    /// <summary>
    /// Rewrites a job's list rows after its record: per scope one entity-group transaction that upserts the four
    /// rows and removes the "updated" rows of the previous status change. Index rows are projections of the
    /// record, so last writer wins is the intent here.
    /// </summary>
    private async Task WriteIndexRowsAsync(Job job, DateTimeOffset? previousIndexedAt, CancellationToken cancellationToken)
    {
        foreach (var partition in JobIndexEntity.Partitions(job))
        {
            var upserts = JobIndexEntity.Rows(job, partition, job.IndexedAt)
                .Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row))
                .ToList();
            var deletes = previousIndexedAt is { } previous && previous != job.IndexedAt
                ? JobIndexEntity.Rows(job, partition, previous)
                    .Where(row => row.RowKey.StartsWith("u", StringComparison.Ordinal))
                    .Select(row => new TableTransactionAction(TableTransactionActionType.Delete, row, ETag.All))
                    .ToList()
                : [];
            try
            {
                await _table.SubmitTransactionAsync([.. upserts, .. deletes], cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (deletes.Count > 0 && ex.Status == 404)
            {
                // An old row was already gone (a retried write): the upserts alone are what matters.
                await _table.SubmitTransactionAsync(upserts, cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} changed under us (attempt {Attempt}); re-reading.")]
    private partial void LogConflict(string jobId, int attempt);
}
