using System.Text.Json;
using Azure;
using Azure.Data.Tables;
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
/// Job counts per index partition, kept with the transitions and never by reading the jobs (docs/storage.md, "Counts"):
/// every projection of a status change writes, in the same entity-group transaction as the list rows it changes, a
/// count row saying the job moved from <see cref="Job.PriorListedStatus"/> to its status; a removal writes one saying it
/// left. A reader adds the partition's counter row and the count rows not folded into it yet (one range query per
/// partition), and folds rows older than <see cref="FoldAge"/> into the counter in one transaction under its ETag.
/// So counting costs no request of its own on the write path, a busy scope's counts are spread like its rows (the 16
/// all-jobs buckets), and two folds never both land. Counts are eventually consistent: a projection that failed shows
/// once it is healed, and <see cref="RecountAsync(JobListScope, CancellationToken)"/> (run by the reconciler) rebuilds a partition's counter from its
/// list rows should a count row ever have been folded before the change it recorded was superseded.
/// </summary>
public sealed partial class JobCounters(StorageClients clients, IndexLayout layout, IOptions<StorageOptions> options, TimeProvider time, ILogger<JobCounters> logger)
{
    /// <summary>
    /// How old a count row must be before it is folded (<see cref="StorageOptions.CountFoldSeconds"/>, 10 minutes): well
    /// past the time a failed projection takes to be healed (a retry within seconds, the reconciler within about two
    /// minutes), so a change that is superseded before it was confirmed still has its row to remove.
    /// </summary>
    public TimeSpan FoldAge { get; } = TimeSpan.FromSeconds(options.Value.CountFoldSeconds);

    /// <summary>Most count rows one fold takes: the counter and the deletes share one transaction of at most 100 operations.</summary>
    private const int MaxFold = 99;

    private readonly TableClient _table = clients.JobsTable;

    /// <summary>The count row of the job's current status change in <paramref name="partition"/> (an upsert: a retry writes the same row).</summary>
    internal static TableTransactionAction Change(Job job, string partition) =>
        new(TableTransactionActionType.UpsertReplace, CountRow(partition, TableKeys.CountChangeRowKey(job.IndexedAt, job.Id), job, job.PriorListedStatus, job.Status));

    /// <summary>
    /// Deletes of the count rows of status changes this projection supersedes: those after the last confirmed one
    /// (<see cref="Job.PriorListedAt"/>) that are not the current one. Their moves are in the current row's "from".
    /// </summary>
    internal static IEnumerable<TableTransactionAction> Superseded(Job job, string partition, IEnumerable<DateTimeOffset> staleTimes) =>
        staleTimes.Where(t => t != job.IndexedAt && (job.PriorListedAt is not { } prior || t > prior)).Distinct()
            .Select(t => new TableTransactionAction(TableTransactionActionType.Delete,
                new TableEntity(partition, TableKeys.CountChangeRowKey(t, job.Id)), ETag.All));

    /// <summary>
    /// The count row of the job leaving <paramref name="partition"/> (its rows deleted), or null when it was never
    /// counted there. Keyed by the status change it leaves from, so a repeated removal writes the same row.
    /// </summary>
    internal static TableTransactionAction? Removal(Job job, string partition)
    {
        var counted = job.ListingPending ? job.PriorListedStatus : job.Status;
        return counted is null ? null
            : new(TableTransactionActionType.UpsertReplace, CountRow(partition, TableKeys.CountRemovalRowKey(job.IndexedAt, job.Id), job, counted, null));
    }

    /// <summary>The changes a removal withdraws: every unconfirmed one, the current included (the removal counts from the confirmed status).</summary>
    internal static IEnumerable<TableTransactionAction> WithdrawnByRemoval(Job job, string partition, IEnumerable<DateTimeOffset> staleTimes) =>
        Superseded(job, partition, staleTimes)
            .Concat(job.ListingPending ? [new TableTransactionAction(TableTransactionActionType.Delete,
                new TableEntity(partition, TableKeys.CountChangeRowKey(job.IndexedAt, job.Id)), ETag.All)] : []);

    private static TableEntity CountRow(string partition, string rowKey, Job job, JobStatus? from, JobStatus? to)
    {
        var row = new TableEntity(partition, rowKey) { ["Type"] = job.Type, ["Owner"] = job.Owner };
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

    /// <summary>The counts of a scope (its partitions: <see cref="IndexLayout"/>), folding old count rows on the way.</summary>
    public async Task<JobCounts> ReadAsync(JobListScope scope, CancellationToken cancellationToken)
    {
        var parts = await Task.WhenAll(layout.PartitionsOf(scope).Select(async partition =>
        {
            var snapshot = await ReadCountRowsAsync(partition, cancellationToken);
            await TryFoldAsync(snapshot, cancellationToken);
            return snapshot.Sum();
        }));
        var total = new Dictionary<CountKey, long>();
        foreach (var part in parts)
        {
            Add(total, part);
        }
        return new JobCounts(total);
    }

    /// <summary>
    /// Rebuilds a scope's counters from its list rows (one creation-ordered row per job): counter = what the rows
    /// count − the count rows not folded yet. The rows are read between two reads of the count rows; every transaction
    /// that changes rows also writes a count row, so equal count rows before and after mean the rows read are the
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

    /// <summary>Recounts the partitions a job is listed in (the reconciler does, for a job whose projection it had to heal).</summary>
    public async Task RecountAsync(Job job, CancellationToken cancellationToken)
    {
        foreach (var partition in layout.PartitionsOf(job))
        {
            await RecountAsync(partition, cancellationToken);
        }
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
            await _table.SubmitTransactionAsync([CounterAction(partition, counter, before.CounterETag)], cancellationToken);
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
        var changes = new List<CountChange>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey == TableKeys.CounterRowKey)
            {
                counterETag = row.ETag;
                foreach (var entry in JsonSerializer.Deserialize<List<CounterEntry>>(row.GetString("Counts") ?? "[]", JobJson.Options) ?? [])
                {
                    if (JobStatusExtensions.TryParseWire(entry.Status, out var status))
                    {
                        counter[new CountKey(entry.Owner, entry.Type, status)] = entry.Count;
                    }
                }
                continue;
            }
            var type = row.GetString("Type") ?? "";
            var owner = byOwner ? row.GetString("Owner") : null;
            changes.Add(new CountChange(row.RowKey, row.ETag, row.Timestamp ?? DateTimeOffset.MinValue,
                Key(owner, type, row.GetString("From")), Key(owner, type, row.GetString("To"))));
        }
        return new CountSnapshot(partition, counter, counterETag, changes);
    }

    private static CountKey? Key(string? owner, string type, string? status) =>
        status is not null && JobStatusExtensions.TryParseWire(status, out var parsed) ? new CountKey(owner, type, parsed) : null;

    /// <summary>
    /// Folds the count rows past <see cref="FoldAge"/> into the counter, oldest first, <see cref="MaxFold"/> to a
    /// transaction; losing a race to another fold ends it (that one folds them).
    /// </summary>
    private async Task TryFoldAsync(CountSnapshot snapshot, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - FoldAge;
        var counter = new Dictionary<CountKey, long>(snapshot.Counter);
        var etag = snapshot.CounterETag;
        foreach (var chunk in snapshot.Changes.Where(c => c.WrittenAt < cutoff).OrderBy(c => c.WrittenAt).Chunk(MaxFold))
        {
            foreach (var change in chunk)
            {
                Apply(counter, change, +1);
            }
            try
            {
                // The deletes are conditional: a count row rewritten since it was read (a heal) is not folded away.
                var response = await _table.SubmitTransactionAsync(
                    [CounterAction(snapshot.Partition, counter, etag),
                     .. chunk.Select(c => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(snapshot.Partition, c.RowKey), c.ETag))],
                    cancellationToken);
                etag = response.Value[0].Headers.ETag;
                LogFolded(chunk.Length, snapshot.Partition);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
            {
                LogFoldLost(snapshot.Partition, ex.Status);
                return;
            }
        }
    }

    private static TableTransactionAction CounterAction(string partition, Dictionary<CountKey, long> counts, ETag? etag)
    {
        var entries = counts.Where(c => c.Value != 0).OrderBy(c => c.Key.Owner, StringComparer.Ordinal).ThenBy(c => c.Key.Type, StringComparer.Ordinal).ThenBy(c => c.Key.Status)
            .Select(c => new CounterEntry(c.Key.Owner, c.Key.Type, c.Key.Status.ToWire(), c.Value)).ToList();
        var row = new TableEntity(partition, TableKeys.CounterRowKey) { ["Counts"] = JsonSerializer.Serialize(entries, JobJson.Options) };
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

    private sealed record CountChange(string RowKey, ETag ETag, DateTimeOffset WrittenAt, CountKey? From, CountKey? To);

    private sealed record CountSnapshot(string Partition, IReadOnlyDictionary<CountKey, long> Counter, ETag? CounterETag, IReadOnlyList<CountChange> Changes)
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "A fold of {Partition} lost a race (storage said {Status}); the next reader folds.")]
    private partial void LogFoldLost(string partition, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The counter of {Partition} did not match its list rows and was rebuilt from them.")]
    private partial void LogRecounted(string partition);
}
