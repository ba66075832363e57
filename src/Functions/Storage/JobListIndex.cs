using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// The list rows of the <c>Jobs</c> table: projections of job records, written after the record and healed when
/// they fall behind it (see <see cref="JobStore"/>). Reads a page as range queries over one RowKey family; type and
/// status orders walk that family once per value (a "phase"). Filters go through the SDK's builder, never by hand.
/// </summary>
public sealed class JobListIndex(StorageClients clients, IndexLayout layout)
{
    private readonly TableClient _table = clients.JobsTable;

    /// <summary>
    /// Writes the job's rows for its current status at <see cref="Job.IndexedAt"/>, per scope one entity-group
    /// transaction that upserts the four rows and removes the "updated" rows at <paramref name="staleTimes"/> (earlier
    /// status changes). Upserts, because rows are projections: the record is the truth, last writer wins here.
    /// <paramref name="liveRow"/> (the job's live-job row, an upsert or a delete) rides in its partition's transaction:
    /// written first when it adds the row (no list row without a live-job row that leads to it), last when it removes
    /// it (every other scope is projected by then).
    /// </summary>
    public async Task WriteAsync(Job job, IEnumerable<DateTimeOffset?> staleTimes, CancellationToken cancellationToken, TableTransactionAction? liveRow = null)
    {
        var stale = staleTimes.OfType<DateTimeOffset>().Where(t => t != job.IndexedAt).Distinct().ToList();
        var livePartition = liveRow?.Entity.PartitionKey;
        var liveLast = liveRow?.ActionType == TableTransactionActionType.Delete;
        foreach (var partition in layout.PartitionsOf(job).OrderBy(p => p != livePartition ? 0 : liveLast ? 1 : -1))
        {
            var upserts = JobIndexEntity.Rows(job, partition, job.IndexedAt)
                .Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row))
                .Append(JobCounters.Change(job, partition))
                .ToList();
            var deletes = stale
                .SelectMany(time => JobIndexEntity.UpdatedRows(job, partition, time))
                .Select(row => new TableTransactionAction(TableTransactionActionType.Delete, row, ETag.All))
                .Concat(JobCounters.Superseded(job, partition, stale))
                .ToList();
            if (liveRow is not null && partition == liveRow.Entity.PartitionKey)
            {
                (liveRow.ActionType == TableTransactionActionType.Delete ? deletes : upserts).Add(liveRow);
            }
            try
            {
                await _table.SubmitTransactionAsync([.. upserts, .. deletes], cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (deletes.Count > 0 && ex.Status == 404)
            {
                // Some old row was already gone (a retried or repeated projection): upsert, then delete one by one.
                await _table.SubmitTransactionAsync(upserts, cancellationToken);
                foreach (var delete in deletes)
                {
                    await DeleteIfExistsAsync(delete.Entity, cancellationToken);
                }
            }
        }
    }

    /// <summary>
    /// Deletes every row the job may have: at its last status change, its last confirmed projection and the change
    /// before; with them a count row saying the job left the scope (<see cref="JobCounters"/>).
    /// </summary>
    public async Task DeleteAsync(Job job, CancellationToken cancellationToken)
    {
        var earlier = new[] { job.ListedAt, job.PreviousIndexedAt }.OfType<DateTimeOffset>().Where(t => t != job.IndexedAt).Distinct().ToList();
        foreach (var partition in layout.PartitionsOf(job))
        {
            var deletes = JobIndexEntity.Rows(job, partition, job.IndexedAt)
                .Concat(earlier.SelectMany(time => JobIndexEntity.UpdatedRows(job, partition, time)))
                .Select(row => new TableTransactionAction(TableTransactionActionType.Delete, row, ETag.All))
                .Concat(JobCounters.WithdrawnByRemoval(job, partition, earlier))
                .ToList();
            var removal = JobCounters.Removal(job, partition);
            try
            {
                // One request per scope; a batch fails whole if a row is already gone (a retried purge).
                await _table.SubmitTransactionAsync(removal is null ? deletes : [.. deletes, removal], cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                if (removal is not null)
                {
                    await _table.SubmitTransactionAsync([removal], cancellationToken); // the same row again: counted once
                }
                foreach (var delete in deletes)
                {
                    await DeleteIfExistsAsync(delete.Entity, cancellationToken);
                }
            }
        }
    }

    private async Task DeleteIfExistsAsync(ITableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            await _table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone: the goal.
        }
    }

    /// <summary>Reads one page; the cursor of the next page is opaque outside storage (see <see cref="ListCursor"/>).</summary>
    public async Task<JobPage> ListAsync(JobListQuery query, CancellationToken cancellationToken)
    {
        var phases = Phases(query);
        var wanted = query.Limit + 1;
        var rows = new List<(int Phase, JobIndexEntity Row)>(wanted);
        var skip = query.Offset;
        var requests = 0;
        var read = 0;
        var after = query.After is { } token ? ListCursor.Decode(token, query, phases.Count) : null;
        var first = after?.Phase ?? 0;
        var partitions = layout.PartitionsOf(query.Scope);
        for (var phase = first; phase < phases.Count && rows.Count < wanted; phase++)
        {
            // One range query per partition of the scope (its buckets), merged by RowKey: every family sorts the same way
            // in every bucket, so the merge is the order asked for and the last RowKey is the cursor, as with one partition.
            var needed = wanted - rows.Count + skip;
            var perPage = partitions.Count == 1 ? Math.Min(1000, needed) : Math.Min(1000, needed / partitions.Count + 2);
            var buckets = partitions.Select(partition => new BucketReader(
                _table.QueryAsync<JobIndexEntity>(BuildFilter(query, partition, phases[phase], phase == first ? after?.RowKey : null),
                    maxPerPage: perPage, cancellationToken: cancellationToken).AsPages().GetAsyncEnumerator(cancellationToken))).ToList();
            try
            {
                while (rows.Count < wanted)
                {
                    BucketReader? lowest = null;
                    foreach (var bucket in buckets)
                    {
                        if (await bucket.PeekAsync() is { } head && (lowest is null || string.CompareOrdinal(head.RowKey, lowest.Head!.RowKey) < 0))
                        {
                            lowest = bucket;
                        }
                    }
                    if (lowest is null)
                    {
                        break; // every bucket is exhausted
                    }
                    var row = lowest.Take();
                    if (skip > 0)
                    {
                        skip--;
                    }
                    else
                    {
                        rows.Add((phase, row));
                    }
                }
            }
            finally
            {
                foreach (var bucket in buckets)
                {
                    requests += bucket.Requests;
                    read += bucket.Read;
                    await bucket.DisposeAsync();
                }
            }
        }
        var pageRows = rows.Take(query.Limit).ToList();
        var next = rows.Count > query.Limit ? new ListCursor(pageRows[^1].Phase, pageRows[^1].Row.RowKey).Encode(query) : null;
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

    internal static string BuildFilter(JobListQuery query, string partition, string? phase = null, string? after = null)
    {
        var family = query.Family;
        var prefix = TableKeys.FamilyPrefix(family);
        var descending = family is IndexFamily.CreatedDescending or IndexFamily.UpdatedDescending;
        var created = family is IndexFamily.CreatedDescending or IndexFamily.CreatedAscending;
        var lower = prefix;
        var upper = TableKeys.FamilyEnd(family);
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

    /// <summary>
    /// One partition's range query, read a page at a time and only as far as the merge needs: the next page is fetched
    /// when the rows in hand run out and the merge still needs this bucket's next row.
    /// </summary>
    private sealed class BucketReader(IAsyncEnumerator<Azure.Page<JobIndexEntity>> pages) : IAsyncDisposable
    {
        private readonly Queue<JobIndexEntity> _rows = new();
        private bool _done;

        public int Requests { get; private set; }
        public int Read { get; private set; }
        public JobIndexEntity? Head => _rows.Count > 0 ? _rows.Peek() : null;

        public async Task<JobIndexEntity?> PeekAsync()
        {
            while (_rows.Count == 0 && !_done)
            {
                if (await pages.MoveNextAsync())
                {
                    Requests++;
                    Read += pages.Current.Values.Count;
                    foreach (var row in pages.Current.Values)
                    {
                        _rows.Enqueue(row);
                    }
                    _done = pages.Current.ContinuationToken is null;
                }
                else
                {
                    _done = true;
                }
            }
            return Head;
        }

        public JobIndexEntity Take() => _rows.Dequeue();

        public ValueTask DisposeAsync() => pages.DisposeAsync();
    }
}
