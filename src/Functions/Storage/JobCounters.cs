using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Metrics;
using Jobs.Functions.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Storage;

/// <summary>What one count is of: jobs of a type in a status (and, in an entity partition, of one owner).</summary>
public sealed record CountKey(string? Owner, string Type, JobStatus Status);

/// <summary>Job counts of a scope, by type and status (and owner where the scope keeps it: entity partitions).</summary>
public sealed class JobCounts(IReadOnlyDictionary<CountKey, long> counts)
{
    public IReadOnlyDictionary<CountKey, long> ByKey { get; } = counts;

    /// <summary>Jobs matching the filters: any status/type when the set is empty; <paramref name="owner"/> only where owners are kept.</summary>
    public long Total(IReadOnlySet<JobStatus> statuses, IReadOnlySet<string> types, string? owner = null) =>
        ByKey.Where(c => (statuses.Count == 0 || statuses.Contains(c.Key.Status))
                && (types.Count == 0 || types.Contains(c.Key.Type))
                && (owner is null || c.Key.Owner == owner))
            .Sum(c => Math.Max(0, c.Value));
}

/// <summary>
/// Job counts per list partition, kept as deltas and never by reading the jobs (docs/storage.md, "Counts"). Every
/// projection of a status change writes, in the same entity-group transaction as the list rows it changes, a delta row
/// saying the job moved from the status the partition showed to its new one (<see cref="ProjectionPlan"/>); a removal
/// writes one saying it left. The marker row in that transaction makes each delta land exactly once. A reader of an
/// owner's or an entity's counts adds the partition's counter row and the deltas not folded into it yet (one range query
/// per partition, no write), so they agree with the listing at once. One background aggregator
/// (<see cref="FoldAsync(CancellationToken)"/>, run by the reconciler) folds deltas into the counters, as Hangfire's
/// CountersAggregator does, and sums the all-jobs buckets into one row (<see cref="TableKeys.AllCountsPartition"/>) that
/// is the admins' counts: one point read whatever the bucket count, exact as of the aggregator's last run.
/// <see cref="RecountAsync(JobListScope, CancellationToken)"/> stays as a repair tool: it rebuilds a partition's counter
/// from its list rows. The same folds roll the deltas up into the metrics (<see cref="MetricRow"/>; docs/storage.md,
/// "Metrics"): a delta carries the record's times, and its facts go to its minute and hour rows in the metrics table —
/// written on the counter in the transaction that deletes the delta, then applied to the rows and cleared
/// (<see cref="PendingMetrics"/>), so each is counted once though the two tables share no transaction.
/// </summary>
public sealed partial class JobCounters(StorageClients clients, IndexLayout layout, IOptions<MetricsOptions> metricsOptions, TimeProvider time,
    ILogger<JobCounters> logger)
{
    /// <summary>Most deltas one fold takes: the counter and the deletes share one transaction of at most 100 operations.</summary>
    private const int MaxFold = 99;

    /// <summary>Operations in one entity-group transaction at most.</summary>
    private const int MaxTransaction = 100;

    /// <summary>Tries at applying a pending to the roll-up rows when other folds keep changing them.</summary>
    private const int MaxApplyAttempts = 5;

    /// <summary>The counter row's fold number: each fold transaction of the partition adds one.</summary>
    internal const string FoldSeqColumn = "FoldSeq";

    private readonly TableClient _table = clients.JobsTable;
    private readonly TableClient _metrics = clients.MetricsTable;

    /// <summary>
    /// The key of a new delta row for a job's change number <paramref name="seq"/> (0: its removal). Exactly-once comes from
    /// the marker row in the same transaction, not from this key, so each application gets a key of its own: a job taken
    /// out of a partition and put back (an orphaned create finished late) is counted again, not overwritten.
    /// </summary>
    internal static string DeltaRowKey(string jobId, int seq) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"cnt-d-{jobId}-{seq:D9}-{Guid.NewGuid():N}");

    /// <summary>
    /// A delta: one job of <paramref name="type"/> moved from <paramref name="from"/> (null: it arrived) to <paramref name="to"/>
    /// (null: it left). With the <paramref name="job"/>'s creation, start and end times it is also what the metrics are rolled
    /// up from (<see cref="MetricFact.Of"/>): no row or request of its own.
    /// </summary>
    internal static TableEntity Delta(string partition, string rowKey, string type, string owner, JobStatus? from, JobStatus? to, Job? job = null)
    {
        var row = new TableEntity(partition, rowKey) { ["Type"] = type, ["Owner"] = owner };
        if (job is not null)
        {
            row["CreatedAt"] = job.CreatedAt;
            row["StartedAt"] = job.StartedAt;
            row["EndedAt"] = job.CompletedAt;
        }
        if (from is { } f)
        {
            row["From"] = f.ToWire();
        }
        if (to is { } t)
        {
            row["To"] = t.ToWire();
        }
        return row;
    }

    /// <summary>
    /// The counts of a scope. All jobs: the buckets' sum as the aggregator last wrote it (one point read; until its first
    /// run, the buckets themselves). An owner or an entity: each of its partitions' (<see cref="IndexLayout"/>) counter plus
    /// its unfolded deltas. Reads only.
    /// </summary>
    public async Task<JobCounts> ReadAsync(JobListScope scope, CancellationToken cancellationToken)
    {
        if (scope is JobListScope.All && await ReadAllCountsAsync(cancellationToken) is { } summed)
        {
            return new JobCounts(summed.Counts);
        }
        var parts = await Task.WhenAll(layout.PartitionsOf(scope).Select(async partition => (await ReadCountRowsAsync(partition, cancellationToken)).Sum()));
        var total = new Dictionary<CountKey, long>();
        foreach (var part in parts)
        {
            Add(total, part);
        }
        return new JobCounts(total);
    }

    /// <summary>
    /// The aggregator: folds the deltas of every all-jobs bucket, and of every partition a bucket names as dirty (an
    /// owner's or an entity's whose counts changed), into their counters, and writes the buckets' sum — counter and
    /// deltas as each bucket was read — to the all-jobs counts row. Returns how many deltas it folded.
    /// </summary>
    public async Task<int> FoldAsync(CancellationToken cancellationToken)
    {
        // Read first: the sum is written under this ETag, so a sum lands only if no other run wrote one since, and the
        // row never goes back to a sum older than the one it holds.
        var summed = await ReadAllCountsAsync(cancellationToken);
        var sum = new Dictionary<CountKey, long>();
        var folded = 0;
        foreach (var bucket in layout.PartitionsOf(new JobListScope.All()))
        {
            var (bucketFolded, counts, _) = await FoldPartitionAsync(bucket, cancellationToken);
            folded += bucketFolded;
            Add(sum, counts);
            var dirty = TableClient.CreateQueryFilter(
                $"PartitionKey eq {bucket} and RowKey ge {ProjectionPlan.DirtyPrefix} and RowKey lt {ProjectionPlan.DirtyPrefix[..^1] + "."}");
            await foreach (var row in _table.QueryAsync<TableEntity>(dirty, cancellationToken: cancellationToken))
            {
                var complete = true;
                if (row.GetString("Partition") is { } partition)
                {
                    var (partitionFolded, _, done) = await FoldPartitionAsync(partition, cancellationToken);
                    folded += partitionFolded;
                    complete = done;
                }
                if (!complete)
                {
                    // Lost a race to another fold, or its roll-ups are still pending on its counter: the partition stays named,
                    // so the next run folds what is left and applies them (a fault here throws, and leaves it named too).
                    continue;
                }
                try
                {
                    // Under its ETag: a projection that named the partition again meanwhile keeps it named.
                    await _table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 412)
                {
                    // Named again (or removed by another aggregator): the next run folds what came since.
                }
            }
        }
        await WriteAllCountsAsync(Normalise(sum), summed, cancellationToken);
        return folded;
    }

    /// <summary>Folds one partition's deltas into its counter, <see cref="MaxFold"/> to a transaction; losing a race to another fold ends it.</summary>
    public async Task<int> FoldAsync(string partition, CancellationToken cancellationToken) =>
        (await FoldPartitionAsync(partition, cancellationToken)).Folded;

    /// <summary>
    /// Folds as <see cref="FoldAsync(string, CancellationToken)"/>, and returns the partition's counts as read (counter and
    /// deltas): exact as of that read, whoever folds. In a partition that keeps metrics (<see cref="KeepsMetrics"/>) each
    /// chunk's <see cref="MetricFact"/>s go to the roll-up rows in the metrics table in two steps, as the two tables share no
    /// transaction (docs/storage.md, "Metrics"): the fold transaction writes them on the counter as its
    /// <see cref="PendingMetrics"/> beside the fold's number (<c>FoldSeq</c>), then they are added to the rows that do not
    /// hold that fold yet, then cleared. A pending left on the counter (a crash, a fault, a fold that lost a race) is applied
    /// first: each fact is counted once, and none is lost. Complete only when nothing is left pending.
    /// </summary>
    private async Task<(int Folded, Dictionary<CountKey, long> Counts, bool Complete)> FoldPartitionAsync(string partition, CancellationToken cancellationToken)
    {
        var snapshot = await ReadCountRowsAsync(partition, cancellationToken);
        var counter = new Dictionary<CountKey, long>(snapshot.Counter);
        var etag = snapshot.CounterETag;
        var seq = snapshot.FoldSeq;
        var folded = 0;
        var keepsMetrics = KeepsMetrics(partition);
        var rows = new Dictionary<string, MetricRow>(StringComparer.Ordinal); // roll-up rows as this run last read or wrote them
        var addedHour = false;
        var complete = true;
        if (snapshot.Pending is { } left && etag is { } read)
        {
            LogPendingFound(partition, seq);
            var (applied, added) = await ApplyPendingAsync(partition, seq, left, rows, cancellationToken);
            addedHour |= added;
            etag = applied ? await ClearPendingAsync(partition, counter, seq, read, cancellationToken) : null;
            complete = etag is not null;
        }
        foreach (var chunk in complete ? Chunks(snapshot.Changes, keepsMetrics) : [])
        {
            var pending = new PendingMetrics();
            foreach (var change in chunk)
            {
                Apply(counter, change, +1);
                foreach (var fact in keepsMetrics ? change.Facts : [])
                {
                    pending.Add(change.Type, fact);
                }
            }
            try
            {
                // The counter under its ETag, so two folds never both land; each delta deleted under its own.
                var response = await _table.SubmitTransactionAsync(
                    [CounterAction(partition, counter, etag, seq + 1, pending),
                     .. chunk.Select(c => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, c.RowKey), c.ETag))],
                    cancellationToken);
                etag = response.Value[0].Headers.ETag;
                seq++;
                folded += chunk.Count;
                LogFolded(chunk.Count, partition);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
            {
                LogFoldLost(partition, ex.Status);
                complete = false;
                break;
            }
            if (pending.IsEmpty)
            {
                continue;
            }
            var (applied, added) = await ApplyPendingAsync(partition, seq, pending, rows, cancellationToken);
            addedHour |= added;
            etag = applied ? await ClearPendingAsync(partition, counter, seq, etag!.Value, cancellationToken) : null;
            if (etag is null)
            {
                complete = false; // the pending stays on the counter (or another fold took it over): the next fold of the partition ends it
                break;
            }
        }
        if (addedHour)
        {
            await PruneMetricsAsync(partition, cancellationToken); // a new hour row: at most once an hour per partition
        }
        return (folded, snapshot.Sum(), complete);
    }

    /// <summary>The all-jobs buckets and the owners' partitions keep metrics; entity partitions (shared by owners) do not.</summary>
    internal static bool KeepsMetrics(string partition) => !TableKeys.CountsByOwner(partition);

    /// <summary>
    /// Deltas in chunks of one fold transaction each: the counter and the deletes within 100 operations, the roll-up rows
    /// the chunk's facts touch within one transaction of the metrics table (100 rows), and its pending increments within
    /// what a counter row keeps (<see cref="PendingMetrics.MaxChars"/>).
    /// </summary>
    private static IEnumerable<List<CountChange>> Chunks(IReadOnlyList<CountChange> changes, bool keepsMetrics)
    {
        var chunk = new List<CountChange>();
        var bound = new PendingMetricsBound();
        foreach (var change in changes)
        {
            if (chunk.Count > 0)
            {
                var (chars, rows) = keepsMetrics ? bound.With(change.Type, change.Facts) : (0, 0);
                if (chunk.Count >= MaxFold || rows > MaxTransaction || chars > PendingMetrics.MaxChars)
                {
                    yield return chunk;
                    chunk = [];
                    bound = new PendingMetricsBound();
                }
            }
            chunk.Add(change);
            if (keepsMetrics)
            {
                bound.Add(change.Type, change.Facts);
            }
        }
        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    /// <summary>
    /// Adds fold <paramref name="seq"/>'s <paramref name="pending"/> increments to the roll-up rows that do not hold them yet
    /// (a row's <c>FoldSeq</c> below <paramref name="seq"/>; folds of a partition are applied in their order, as a fold
    /// commits only on a counter with nothing pending), and sets those rows' <c>FoldSeq</c>: one transaction, as a
    /// partition's rows share one partition of the metrics table. Rows not in <paramref name="known"/> are read first, one
    /// point read each. Whoever applies a pending applies the same increments, so on a conflict (another fold applied it, or
    /// the prune removed a row) the rows are read again and the decision made again. False when the conflicts go on.
    /// </summary>
    private async Task<(bool Applied, bool AddedHour)> ApplyPendingAsync(string partition, long seq, PendingMetrics pending,
        Dictionary<string, MetricRow> known, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxApplyAttempts; attempt++)
        {
            var read = await Task.WhenAll(pending.Rows.Keys.Where(k => !known.ContainsKey(k)).Select(async key =>
            {
                var row = await _metrics.GetEntityIfExistsAsync<TableEntity>(partition, key, cancellationToken: cancellationToken);
                return row.HasValue ? MetricRow.Read(row.Value!) : MetricRow.Empty(key);
            }));
            foreach (var row in read)
            {
                known[row.RowKey] = row;
            }
            var touched = new List<MetricRow>();
            foreach (var (key, byType) in pending.Rows)
            {
                if (known[key].FoldSeq >= seq)
                {
                    continue; // it holds this fold already: another fold applied the pending
                }
                var row = known[key].Copy();
                foreach (var (type, metrics) in byType)
                {
                    row.Add(type, metrics);
                }
                row.FoldSeq = seq;
                touched.Add(row);
            }
            if (touched.Count == 0)
            {
                return (true, false);
            }
            try
            {
                var response = await _metrics.SubmitTransactionAsync(touched.Select(row => row.ToAction(partition)), cancellationToken);
                var addedHour = false;
                for (var i = 0; i < touched.Count; i++)
                {
                    addedHour |= touched[i].ETag is null && touched[i].RowKey.StartsWith(MetricSlots.FamilyPrefix(MetricInterval.Hour), StringComparison.Ordinal);
                    touched[i].ETag = response.Value[i].Headers.ETag;
                    known[touched[i].RowKey] = touched[i];
                }
                return (true, addedHour);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
            {
                LogFoldLost(partition, ex.Status);
                foreach (var row in touched)
                {
                    known.Remove(row.RowKey);
                }
            }
        }
        return (false, false);
    }

    /// <summary>
    /// Clears the counter's pending increments, once they are in the roll-up rows, under the ETag of the fold transaction
    /// that wrote them. Returns the new ETag, or null when the counter changed meanwhile: another fold met the pending and
    /// applied it (or a recount rewrote the counter, carrying it on); either way, the next fold of the partition sees.
    /// </summary>
    private async Task<ETag?> ClearPendingAsync(string partition, Dictionary<CountKey, long> counter, long seq, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _table.UpdateEntityAsync(CounterRow(partition, counter, seq, pending: null), etag, TableUpdateMode.Replace, cancellationToken);
            return response.Headers.ETag;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            LogFoldLost(partition, ex.Status);
            return null;
        }
    }

    /// <summary>Deletes the partition's roll-up rows older than <see cref="MetricsOptions.KeepDays"/> (each family one range read).</summary>
    private async Task PruneMetricsAsync(string partition, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(metricsOptions.Value.KeepDays);
        foreach (var interval in Enum.GetValues<MetricInterval>())
        {
            var filter = TableClient.CreateQueryFilter(
                $"PartitionKey eq {partition} and RowKey ge {MetricSlots.FamilyPrefix(interval)} and RowKey lt {MetricSlots.RowKey(interval, cutoff)}");
            var old = new List<TableTransactionAction>();
            await foreach (var row in _metrics.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
            {
                old.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, row.RowKey), ETag.All));
            }
            foreach (var batch in old.Chunk(MaxTransaction))
            {
                try
                {
                    await _metrics.SubmitTransactionAsync(batch, cancellationToken);
                }
                catch (TableTransactionFailedException ex) when (ex.Status == 404)
                {
                    LogFoldLost(partition, ex.Status); // pruned by another run meanwhile
                }
            }
        }
    }

    /// <summary>The all-jobs counts row (<see cref="TableKeys.AllCountsPartition"/>) and its ETag, or null before the aggregator's first run.</summary>
    private async Task<SummedCounts?> ReadAllCountsAsync(CancellationToken cancellationToken)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(TableKeys.AllCountsPartition, TableKeys.CounterRowKey, cancellationToken: cancellationToken);
        return row.HasValue ? new SummedCounts(ParseCounter(row.Value!), row.Value!.ETag) : null;
    }

    /// <summary>Writes the buckets' sum under the ETag read before the buckets were (nothing when it did not change).</summary>
    private async Task WriteAllCountsAsync(Dictionary<CountKey, long> sum, SummedCounts? summed, CancellationToken cancellationToken)
    {
        if (summed is not null && SameCounts(Normalise(new Dictionary<CountKey, long>(summed.Counts)), sum))
        {
            return;
        }
        var row = CounterRow(TableKeys.AllCountsPartition, sum);
        try
        {
            if (summed is null)
            {
                await _table.AddEntityAsync(row, cancellationToken);
            }
            else
            {
                await _table.UpdateEntityAsync(row, summed.ETag, TableUpdateMode.Replace, cancellationToken);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            LogFoldLost(TableKeys.AllCountsPartition, ex.Status); // another run wrote a sum read no earlier than ours
        }
    }

    /// <summary>
    /// Rebuilds a scope's counters from its list rows (one creation-ordered row per job): counter = what the rows
    /// count − the deltas not folded yet. The rows are read between two reads of the count rows; every transaction
    /// that changes rows also writes a delta, so equal count rows before and after mean the rows read are the
    /// state those count rows lead to. The counter is written under the ETag first read. Returns false when the
    /// partition moved meanwhile (the next run tries again), and whether the counter was off when true.
    /// </summary>
    public async Task<(bool Done, bool Corrected)> RecountAsync(JobListScope scope, CancellationToken cancellationToken)
    {
        var done = true;
        var corrected = false;
        foreach (var partition in layout.PartitionsOf(scope))
        {
            var (partitionDone, partitionCorrected) = await RecountAsync(partition, cancellationToken);
            done &= partitionDone;
            corrected |= partitionCorrected;
        }
        return (done, corrected);
    }

    private async Task<(bool Done, bool Corrected)> RecountAsync(string partition, CancellationToken cancellationToken)
    {
        var before = await ReadCountRowsAsync(partition, cancellationToken);
        var listed = new Dictionary<CountKey, long>();
        var byOwner = TableKeys.CountsByOwner(partition);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {TableKeys.FamilyPrefix(IndexFamily.CreatedDescending)} and RowKey lt {TableKeys.FamilyEnd(IndexFamily.CreatedDescending)}");
        await foreach (var row in _table.QueryAsync<JobIndexEntity>(filter, select: ["Type", "Status", "Owner"], cancellationToken: cancellationToken))
        {
            if (JobStatusExtensions.TryParseWire(row.Status, out var status))
            {
                var key = new CountKey(byOwner ? row.Owner : null, row.Type, status);
                listed[key] = listed.GetValueOrDefault(key) + 1;
            }
        }
        var after = await ReadCountRowsAsync(partition, cancellationToken);
        if (!before.SameAs(after))
        {
            return (false, false);
        }
        var counter = new Dictionary<CountKey, long>(listed);
        foreach (var change in before.Changes)
        {
            Apply(counter, change, -1);
        }
        if (SameCounts(before.Sum(), Normalise(listed)))
        {
            return (true, false);
        }
        try
        {
            // The fold number and any pending roll-ups carried on: they are the folds', not the counts'.
            await _table.SubmitTransactionAsync([CounterAction(partition, counter, before.CounterETag, before.FoldSeq, before.Pending)], cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
        {
            return (false, false); // folded or recounted meanwhile
        }
        LogRecounted(partition);
        return (true, true);
    }

    private static bool SameCounts(Dictionary<CountKey, long> a, Dictionary<CountKey, long> b) =>
        a.Count == b.Count && a.All(c => b.TryGetValue(c.Key, out var value) && value == c.Value);

    private static Dictionary<CountKey, long> Normalise(Dictionary<CountKey, long> counts) =>
        counts.Where(c => c.Value != 0).ToDictionary(c => c.Key, c => c.Value);

    private async Task<CountSnapshot> ReadCountRowsAsync(string partition, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {TableKeys.CountRowKeyPrefix} and RowKey lt {TableKeys.CountRowKeyEnd}");
        var byOwner = TableKeys.CountsByOwner(partition);
        var counter = new Dictionary<CountKey, long>();
        ETag? counterETag = null;
        long foldSeq = 0;
        PendingMetrics? pending = null;
        var changes = new List<CountChange>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey == TableKeys.CounterRowKey)
            {
                counterETag = row.ETag;
                counter = ParseCounter(row);
                foldSeq = row.GetInt64(FoldSeqColumn) ?? 0;
                pending = PendingMetrics.ReadFrom(row);
                continue;
            }
            var type = row.GetString("Type") ?? "";
            var owner = byOwner ? row.GetString("Owner") : null;
            var from = StoredStatus.ParseOptional(row.GetString("From"), $"Count row {row.RowKey} in {partition}");
            var to = StoredStatus.ParseOptional(row.GetString("To"), $"Count row {row.RowKey} in {partition}");
            changes.Add(new CountChange(row.RowKey, row.ETag,
                Key(owner, type, row.GetString("From")), Key(owner, type, row.GetString("To")), type,
                MetricFact.Of(from, to, row.GetDateTimeOffset("CreatedAt"), row.GetDateTimeOffset("StartedAt"), row.GetDateTimeOffset("EndedAt"))));
        }
        return new CountSnapshot(partition, counter, counterETag, foldSeq, pending, changes);
    }

    private static Dictionary<CountKey, long> ParseCounter(TableEntity row)
    {
        var counter = new Dictionary<CountKey, long>();
        foreach (var entry in JsonSerializer.Deserialize<List<CounterEntry>>(row.GetString("Counts") ?? "[]", JobJson.Options) ?? [])
        {
            if (JobStatusExtensions.TryParseWire(entry.Status, out var status))
            {
                counter[new CountKey(entry.Owner, entry.Type, status)] = entry.Count;
            }
        }
        return counter;
    }

    private static CountKey? Key(string? owner, string type, string? status) =>
        status is not null && JobStatusExtensions.TryParseWire(status, out var parsed) ? new CountKey(owner, type, parsed) : null;

    /// <summary>A counter row (<see cref="TableKeys.CounterRowKey"/>) holding <paramref name="counts"/>, as folds write it (before any fold: no fold number).</summary>
    internal static TableEntity CounterRow(string partition, Dictionary<CountKey, long> counts)
    {
        var entries = counts.Where(c => c.Value != 0).OrderBy(c => c.Key.Owner, StringComparer.Ordinal).ThenBy(c => c.Key.Type, StringComparer.Ordinal).ThenBy(c => c.Key.Status)
            .Select(c => new CounterEntry(c.Key.Owner, c.Key.Type, c.Key.Status.ToWire(), c.Value)).ToList();
        return new TableEntity(partition, TableKeys.CounterRowKey) { ["Counts"] = JsonSerializer.Serialize(entries, JobJson.Options) };
    }

    /// <summary>A partition's counter row after fold <paramref name="foldSeq"/>, with that fold's roll-up increments while they are pending.</summary>
    private static TableEntity CounterRow(string partition, Dictionary<CountKey, long> counts, long foldSeq, PendingMetrics? pending)
    {
        var row = CounterRow(partition, counts);
        row[FoldSeqColumn] = foldSeq;
        pending?.WriteTo(row);
        return row;
    }

    private static TableTransactionAction CounterAction(string partition, Dictionary<CountKey, long> counts, ETag? etag, long foldSeq, PendingMetrics? pending)
    {
        var row = CounterRow(partition, counts, foldSeq, pending);
        return etag is { } match
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, match)
            : new TableTransactionAction(TableTransactionActionType.Add, row);
    }

    private static void Apply(Dictionary<CountKey, long> counts, CountChange change, int sign)
    {
        if (change.From is { } from)
        {
            counts[from] = counts.GetValueOrDefault(from) - sign;
        }
        if (change.To is { } to)
        {
            counts[to] = counts.GetValueOrDefault(to) + sign;
        }
    }

    private static void Add(Dictionary<CountKey, long> total, IReadOnlyDictionary<CountKey, long> part)
    {
        foreach (var (key, value) in part)
        {
            total[key] = total.GetValueOrDefault(key) + value;
        }
    }

    private sealed record CounterEntry(string? Owner, string Type, string Status, long Count);

    private sealed record SummedCounts(Dictionary<CountKey, long> Counts, ETag ETag);

    private sealed record CountChange(string RowKey, ETag ETag, CountKey? From, CountKey? To, string Type, IReadOnlyList<MetricFact> Facts);

    private sealed record CountSnapshot(string Partition, IReadOnlyDictionary<CountKey, long> Counter, ETag? CounterETag, long FoldSeq,
        PendingMetrics? Pending, IReadOnlyList<CountChange> Changes)
    {
        public Dictionary<CountKey, long> Sum()
        {
            var sum = new Dictionary<CountKey, long>(Counter);
            foreach (var change in Changes)
            {
                Apply(sum, change, +1);
            }
            return Normalise(sum);
        }

        public bool SameAs(CountSnapshot other) =>
            CounterETag == other.CounterETag
            && Changes.Select(c => (c.RowKey, c.ETag)).SequenceEqual(other.Changes.Select(c => (c.RowKey, c.ETag)));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Folded {Count} count row(s) into the counter of {Partition}.")]
    private partial void LogFolded(int count, string partition);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A fold of {Partition} lost a race (storage said {Status}); the next fold takes the rest.")]
    private partial void LogFoldLost(string partition, int status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The counter of {Partition} held the roll-ups of fold {Seq}, not known applied: applying them first.")]
    private partial void LogPendingFound(string partition, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The counter of {Partition} did not match its list rows and was rebuilt from them.")]
    private partial void LogRecounted(string partition);
}
