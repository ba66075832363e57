using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Storage;

/// <summary>
/// Reads the list rows of the <c>Jobs</c> table — projections of job records that <see cref="JobProjector"/> writes.
/// Reads a page as range queries over one RowKey family; type and status orders walk that family once per value (a
/// "phase"). Filters go through the SDK's builder, never by hand. A page follows at most
/// <see cref="StorageOptions.ListContinuationBudget"/> continuations; past them it is answered short (even empty) with a
/// <c>next</c> that resumes where the scan stopped.
/// </summary>
public sealed class JobListIndex(StorageClients clients, IndexLayout layout, IOptions<StorageOptions> options)
{
    private readonly TableClient _table = clients.JobsTable;
    private readonly int _budget = options.Value.ListContinuationBudget;

    /// <summary>
    /// Reads one page; the cursor of the next page is opaque outside storage (see <see cref="ListCursor"/>). Throws
    /// <see cref="OffsetBeyondBudgetException"/> when the budget is spent before the rows an offset skips are read.
    /// </summary>
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
        var budget = new Budget(_budget);
        ListCursor? stopped = null;
        var (_, upper) = RangeOf(query);
        for (var phase = first; phase < phases.Count && rows.Count < wanted && stopped is null; phase++)
        {
            // One range query per partition of the scope (its buckets), merged by RowKey: every family sorts the same way
            // in every bucket, so the merge is the order asked for and the last RowKey is the cursor, as with one partition.
            // Each bucket is asked for every row the page may still need (≤ 1,000 a response): the rows may all be in one
            // bucket, and a second request to any bucket would cost more than the rows it saves (docs/scale.md).
            var perPage = Math.Min(1000, wanted - rows.Count + skip);
            var buckets = partitions.Select(partition => new BucketReader(
                _table.QueryAsync<JobIndexEntity>(BuildFilter(query, partition, phases[phase], phase == first ? after : null),
                    maxPerPage: perPage, cancellationToken: cancellationToken).AsPages().GetAsyncEnumerator(cancellationToken), upper)).ToList();
            try
            {
                await Task.WhenAll(buckets.Select(bucket => bucket.PeekAsync(budget))); // the merge needs every bucket's head: read them at once
                while (rows.Count < wanted)
                {
                    var heads = new List<(string? Head, string? CoveredTo)>(buckets.Count);
                    foreach (var bucket in buckets)
                    {
                        heads.Add((await bucket.PeekAsync(budget) is { } head ? head.RowKey : null, bucket.Stuck ? bucket.NextKey : null));
                    }
                    var (take, stopAt) = NextInMerge(heads);
                    if (stopAt is not null)
                    {
                        stopped = new ListCursor(phase, stopAt, From: true); // the budget is spent: nothing below stopAt is left unread
                        break;
                    }
                    if (take < 0)
                    {
                        break; // every bucket is exhausted
                    }
                    var row = buckets[take].Take();
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
        if (stopped is not null && skip > 0)
        {
            throw new OffsetBeyondBudgetException(query.Offset - skip);
        }
        var pageRows = rows.Take(query.Limit).ToList();
        var next = rows.Count > query.Limit ? new ListCursor(pageRows[^1].Phase, pageRows[^1].Row.RowKey).Encode(query)
            : stopped?.Encode(query);
        var jobs = pageRows.Select(r => Summary(r.Row)).ToList();
        return new JobPage(jobs, next, requests, read);
    }

    /// <summary>
    /// One step of the k-way merge, given each bucket's head row in hand (RowKey) or, for a bucket whose budget is spent
    /// before its range ended, the key its unread part starts at (both null: the bucket is exhausted). Answers the bucket
    /// to take the lowest row from; or, when that row is not below every spent bucket's unread part (it could come after
    /// a row not yet read), the key to stop at — the page ends there and the next one reads from it, inclusive; or
    /// (-1, null) when every bucket is exhausted.
    /// </summary>
    internal static (int Take, string? StopAt) NextInMerge(IReadOnlyList<(string? Head, string? CoveredTo)> buckets)
    {
        var lowest = -1;
        string? bound = null;
        for (var i = 0; i < buckets.Count; i++)
        {
            var (head, coveredTo) = buckets[i];
            if (head is not null)
            {
                if (lowest < 0 || string.CompareOrdinal(head, buckets[lowest].Head) < 0)
                {
                    lowest = i;
                }
            }
            else if (coveredTo is not null && (bound is null || string.CompareOrdinal(coveredTo, bound) < 0))
            {
                bound = coveredTo;
            }
        }
        return bound is not null && (lowest < 0 || string.CompareOrdinal(buckets[lowest].Head, bound) >= 0) ? (-1, bound) : (lowest, null);
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
    /// do: a walk of its creation rows, ids only, that stops at <paramref name="max"/> + 1 (null: more), or when it has
    /// followed <see cref="StorageOptions.ListContinuationBudget"/> continuations (null: unknown). A listing by several tags
    /// has its total from this walk (the counters know one tag's jobs, not an intersection).
    /// </summary>
    public async Task<long?> CountAsync(JobListQuery query, int max, CancellationToken cancellationToken)
    {
        var walk = query with { After = null, Offset = 0, OrderBy = JobOrder.CreatedAt, Descending = true };
        long matched = 0;
        var budget = new Budget(_budget);
        foreach (var partition in layout.PartitionsOf(query.Scope))
        {
            await foreach (var page in _table.QueryAsync<TableEntity>(BuildFilter(walk, partition), maxPerPage: 1000, select: ["JobId"], cancellationToken: cancellationToken).AsPages())
            {
                matched += page.Values.Count;
                if (matched > max)
                {
                    return null;
                }
                if (page.ContinuationToken is not null && !budget.TrySpend())
                {
                    return null; // the walk's budget is spent: the total is unknown
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

    /// <summary>The RowKey range [lower, upper) of <paramref name="query"/>'s family (narrowed by a creation-time window in a creation order).</summary>
    internal static (string Lower, string Upper) RangeOf(JobListQuery query)
    {
        var family = query.Family;
        var prefix = TableKeys.FamilyPrefix(family);
        var descending = family is IndexFamily.CreatedDescending or IndexFamily.UpdatedDescending;
        var lower = prefix;
        var upper = TableKeys.FamilyEnd(family);
        if (family is IndexFamily.CreatedDescending or IndexFamily.CreatedAscending)
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
        return (lower, upper);
    }

    internal static string BuildFilter(JobListQuery query, string partition, string? phase = null, ListCursor? after = null)
    {
        var (lower, upper) = RangeOf(query);
        var created = query.Family is IndexFamily.CreatedDescending or IndexFamily.CreatedAscending;
        var clauses = new List<string>
        {
            TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {lower} and RowKey lt {upper}"),
        };
        if (after is { RowKey: { } key })
        {
            clauses.Add(after.From ? TableClient.CreateQueryFilter($"RowKey ge {key}") : TableClient.CreateQueryFilter($"RowKey gt {key}"));
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

    /// <summary>The continuations a listing call may still follow, shared by its buckets and phases.</summary>
    private sealed class Budget(int continuations)
    {
        private int _remaining = continuations;

        /// <summary>Takes one continuation if any is left; the buckets' first reads run at once, so this is atomic.</summary>
        public bool TrySpend() => Interlocked.Decrement(ref _remaining) >= 0;
    }

    /// <summary>
    /// One partition's range query, read a page at a time and only as far as the merge needs: the next page is fetched
    /// when the rows in hand run out and the merge still needs this bucket's next row. Its first request is the page's
    /// plan; each continuation after it spends the call's <see cref="Budget"/>. When that is spent, the bucket is
    /// <see cref="Stuck"/>: it has covered its range below <see cref="NextKey"/>, the continuation's next RowKey. A
    /// continuation whose key cannot be read (<see cref="ContinuationKeys"/>) is followed anyway: without the key there is
    /// no safe point to stop at.
    /// </summary>
    private sealed class BucketReader(IAsyncEnumerator<Azure.Page<JobIndexEntity>> pages, string upper) : IAsyncDisposable
    {
        private readonly Queue<JobIndexEntity> _rows = new();
        private bool _done;

        public int Requests { get; private set; }
        public int Read { get; private set; }
        public JobIndexEntity? Head => _rows.Count > 0 ? _rows.Peek() : null;

        /// <summary>Where the unread part of the range starts, when a continuation named it.</summary>
        public string? NextKey { get; private set; }

        /// <summary>No row in hand, the range not ended, and the budget spent.</summary>
        public bool Stuck => _rows.Count == 0 && !_done && Requests > 0;

        public async Task<JobIndexEntity?> PeekAsync(Budget budget)
        {
            while (_rows.Count == 0 && !_done)
            {
                if (Requests > 0 && NextKey is not null && !budget.TrySpend())
                {
                    return null;
                }
                if (await pages.MoveNextAsync())
                {
                    Requests++;
                    Read += pages.Current.Values.Count;
                    foreach (var row in pages.Current.Values)
                    {
                        _rows.Enqueue(row);
                    }
                    _done = pages.Current.ContinuationToken is null;
                    NextKey = null;
                    if (!_done && pages.Current.GetRawResponse().Headers.TryGetValue(ContinuationKeys.NextRowKeyHeader, out var header)
                        && ContinuationKeys.DecodeRowKey(header) is { } next)
                    {
                        if (string.CompareOrdinal(next, upper) >= 0)
                        {
                            _done = true; // what is left of the partition is past the range
                        }
                        else if (ListCursor.IsIndexRowKey(next))
                        {
                            NextKey = next;
                        }
                    }
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
