using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// Reads the list rows of the <c>Jobs</c> table — projections of job records that <see cref="JobProjector"/> writes.
/// Reads a page as range queries over one RowKey family; type and status orders walk that family once per value (a
/// "phase"). Filters go through the SDK's builder, never by hand.
/// </summary>
public sealed class JobListIndex(StorageClients clients, IndexLayout layout)
{
    private readonly TableClient _table = clients.JobsTable;

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
            // Each bucket is asked for every row the page may still need (≤ 1,000 a response): the rows may all be in one
            // bucket, and a second request to any bucket would cost more than the rows it saves (docs/scale.md).
            var perPage = Math.Min(1000, wanted - rows.Count + skip);
            var buckets = partitions.Select(partition => new BucketReader(
                _table.QueryAsync<JobIndexEntity>(BuildFilter(query, partition, phases[phase], phase == first ? after?.RowKey : null),
                    maxPerPage: perPage, cancellationToken: cancellationToken).AsPages().GetAsyncEnumerator(cancellationToken))).ToList();
            try
            {
                await Task.WhenAll(buckets.Select(bucket => bucket.PeekAsync())); // the merge needs every bucket's head: read them at once
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
        var jobs = pageRows.Select(r => Summary(r.Row)).ToList();
        return new JobPage(jobs, next, requests, read);
    }

    /// <summary>
    /// The jobs of <paramref name="scope"/> (an owner's or all jobs) whose id starts with <paramref name="prefix"/> (1–31
    /// lowercase hex digits), at most <paramref name="limit"/>, newest first. Ids are random, so no list family is ordered
    /// by them; the job's marker rows are (<c>mk-{id}-…</c>, in every list partition): one range read of markers per
    /// partition of the scope (at most 2 × <paramref name="limit"/> + 2 rows: each job has its birth and its current
    /// marker), then one point read of each found job's creation row for its list row. No paging: a longer prefix narrows.
    /// </summary>
    public async Task<IReadOnlyList<JobSummary>> FindByIdPrefixAsync(JobListScope scope, string prefix, int limit, CancellationToken cancellationToken)
    {
        // After the prefix come more hex digits or '-': every one sorts below 'g'.
        var (from, to) = (ProjectionPlan.MarkerPrefix + prefix, ProjectionPlan.MarkerPrefix + prefix + "g");
        var found = new Dictionary<string, (string Partition, DateTimeOffset CreatedAt)>();
        foreach (var partition in layout.PartitionsOf(scope))
        {
            await foreach (var page in _table.QueryAsync<TableEntity>(
                TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {from} and RowKey lt {to}"),
                maxPerPage: 2 * limit + 2, select: ["JobId", "Seq", "CreatedAt"], cancellationToken: cancellationToken).AsPages())
            {
                foreach (var marker in page.Values.Where(m => m.GetInt32("Seq") > 0 && m.GetDateTimeOffset("CreatedAt") is not null))
                {
                    found[marker.GetString("JobId")] = (partition, marker.GetDateTimeOffset("CreatedAt")!.Value);
                }
                break; // one response: the rest is what a longer prefix finds
            }
        }
        var newest = found.OrderByDescending(f => f.Value.CreatedAt).ThenBy(f => f.Key, StringComparer.Ordinal).Take(limit);
        var rows = await Task.WhenAll(newest.Select(f => _table.GetEntityIfExistsAsync<JobIndexEntity>(
            f.Value.Partition, TableKeys.IndexRowKey(IndexFamily.CreatedDescending, f.Value.CreatedAt, f.Key), cancellationToken: cancellationToken)));
        return [.. rows.Where(r => r.HasValue).Select(r => Summary(r.Value!))];
    }

    private static JobSummary Summary(JobIndexEntity row) => new(
        row.JobId, row.Type, StoredStatus.Parse(row.Status, $"List row {row.RowKey} in {row.PartitionKey}"), row.Owner,
        row.EntityType is null || row.EntityId is null ? null : new EntityRef(row.EntityType, row.EntityId),
        row.CorrelationId, row.CreatedAt, row.UpdatedAt) { Tags = JobIndexEntity.ReadTags(row.Tags) };

    /// <summary>
    /// How many jobs match <paramref name="query"/> (its filters, not its page or cursor), when at most <paramref name="max"/>
    /// do: a walk of its creation rows, ids only, that stops at <paramref name="max"/> + 1 (null: more). A listing by several
    /// tags has its total from this walk (the counters know one tag's jobs, not an intersection).
    /// </summary>
    public async Task<long?> CountAsync(JobListQuery query, int max, CancellationToken cancellationToken)
    {
        var walk = query with { After = null, Offset = 0, OrderBy = JobOrder.CreatedAt, Descending = true };
        long matched = 0;
        foreach (var partition in layout.PartitionsOf(query.Scope))
        {
            await foreach (var _ in _table.QueryAsync<TableEntity>(BuildFilter(walk, partition), maxPerPage: 1000, select: ["JobId"], cancellationToken: cancellationToken))
            {
                if (++matched > max)
                {
                    return null;
                }
            }
        }
        return matched;
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
        if (query.CorrelationId is { } correlationId)
        {
            clauses.Add(TableClient.CreateQueryFilter($"CorrelationId eq {correlationId}"));
        }
        foreach (var tag in query.Tags)
        {
            if (query.Scope is not JobListScope.Tag { Name: var read } || read != tag)
            {
                // The column's name is hex digits of the tag's hash, never the user's text; its value is always true.
                clauses.Add(TableKeys.TagColumn(tag) + " eq true");
            }
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
