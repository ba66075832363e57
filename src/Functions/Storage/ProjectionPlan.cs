using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>What one list partition shows of a job: the change it last applied, read from the job's marker row there.</summary>
public sealed record ProjectedState(int Seq, JobStatus Status, DateTimeOffset ChangedAt, DateTimeOffset CreatedAt);

/// <summary>
/// The writes that move one list partition's view of a job from one state to another, as one entity-group transaction
/// (pure: <see cref="JobProjector"/> submits it). Every plan deletes the marker row of the state it starts from (a
/// creation: adds the job's birth marker) and adds the one of the state it reaches, so it applies only to the partition
/// it was made for: applied twice, or after a later change was applied, it fails as a whole (404 or 409) and changes
/// nothing — that is what makes projecting idempotent and safe from two instances at once, and why a count delta in the
/// same transaction is counted exactly once.
/// </summary>
/// <param name="Required">The marker rows, the list rows, the count delta, the live-job and dirty-partition rows.</param>
/// <param name="Cleanup">Deletes of rows the starting state should have (its "updated" rows, its live-job row): if one is
/// missing the transaction fails, and they are then deleted one by one after <paramref name="Required"/>.</param>
public sealed record ProjectionPlan(IReadOnlyList<TableTransactionAction> Required, IReadOnlyList<TableTransactionAction> Cleanup)
{
    /// <summary>Marker rows: <c>mk-{id}-{seq}-{status}</c> (and the birth marker, <c>mk-{id}-000000000</c>) in each list partition the job is in.</summary>
    public const string MarkerPrefix = "mk-";

    /// <summary>Rows naming partitions whose counts changed, in the all-jobs buckets (<see cref="JobCounters"/> folds them).</summary>
    public const string DirtyPrefix = "dirty-";

    public IEnumerable<TableTransactionAction> All => Required.Concat(Cleanup);

    /// <summary>
    /// A marker's key names the change and the status it shows, so a plan made from a wrong guess of either (a record
    /// restored behind the engine's back keeps its change number) fails instead of counting from the wrong status.
    /// </summary>
    public static string MarkerRowKey(string jobId, ProjectedState state) =>
        MarkerPrefix + jobId + "-" + state.Seq.ToString("D9", CultureInfo.InvariantCulture) + "-" + state.Status.ToWire();

    /// <summary>
    /// The job's birth marker in a partition: added with its first projection there and kept until it is removed, so
    /// a creation applied late (after later changes moved the current marker on) fails instead of starting over.
    /// </summary>
    public static string BornMarkerRowKey(string jobId) => MarkerPrefix + jobId + "-" + 0.ToString("D9", CultureInfo.InvariantCulture);

    /// <summary>The key range of a job's marker rows in a partition: [<c>mk-{id}-</c>, <c>mk-{id}.</c>).</summary>
    public static (string From, string To) MarkerRange(string jobId) => (MarkerPrefix + jobId + "-", MarkerPrefix + jobId + ".");

    public static string DirtyRowKey(string partition) => DirtyPrefix + partition;

    /// <summary>
    /// Moves <paramref name="partition"/> from <paramref name="from"/> (null: the job is not there) to the job's state
    /// <paramref name="to"/>. <paramref name="allJobs"/>: the partition is the job's all-jobs bucket (<see cref="IndexLayout"/>),
    /// which also holds its live-job row and names <paramref name="dirty"/> (the job's other partitions) so their counts
    /// get folded.
    /// </summary>
    public static ProjectionPlan Apply(Job job, string partition, bool allJobs, ProjectedState? from, ProjectedState to, IReadOnlyCollection<string> dirty)
    {
        var required = new List<TableTransactionAction>();
        var cleanup = new List<TableTransactionAction>();
        required.Add(from is not null
            ? Delete(partition, MarkerRowKey(job.Id, from))
            : new(TableTransactionActionType.Add, new TableEntity(partition, BornMarkerRowKey(job.Id)) { ["JobId"] = job.Id, ["Seq"] = 0 }));
        required.Add(new(TableTransactionActionType.Add, Marker(job.Id, partition, to)));
        required.AddRange(JobIndexEntity.Rows(job, partition, to.ChangedAt).Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row.ToStored(job.Tags))));
        if (from is not null)
        {
            cleanup.AddRange(StaleRows(job.Id, partition, from, to).Select(key => Delete(partition, key)));
        }
        if (from?.Status != to.Status)
        {
            required.Add(new(TableTransactionActionType.UpsertReplace,
                JobCounters.Delta(partition, JobCounters.DeltaRowKey(job.Id, to.Seq), job.Type, job.Owner, from?.Status, to.Status, job)));
        }
        if (allJobs)
        {
            var wasLive = from is not null && IsLive(from.Status);
            if (IsLive(to.Status) && job.Deadline is { } deadline)
            {
                // Rewritten with every change it lives through: it says which change is projected everywhere (this
                // partition goes last), so the reconciler settles only what is behind.
                required.Add(new(TableTransactionActionType.UpsertReplace, LiveJobIndex.Row(partition, job, deadline, to.Seq)));
            }
            else if (!IsLive(to.Status) && wasLive && job.Deadline is { } ended)
            {
                cleanup.Add(Delete(partition, TableKeys.ActiveRowKey(ended, job.Id)));
            }
            required.AddRange(DirtyRows(partition, dirty));
        }
        return new ProjectionPlan(required, cleanup);
    }

    /// <summary>
    /// Takes the job out of <paramref name="partition"/>, which shows <paramref name="from"/>: its rows go and its count
    /// leaves (<paramref name="allJobs"/> and <paramref name="dirty"/> as for <see cref="Apply"/>).
    /// </summary>
    public static ProjectionPlan Remove(Job job, string partition, bool allJobs, ProjectedState from, IReadOnlyCollection<string> dirty)
    {
        var required = new List<TableTransactionAction>
        {
            Delete(partition, MarkerRowKey(job.Id, from)),
            Delete(partition, BornMarkerRowKey(job.Id)),
            new(TableTransactionActionType.UpsertReplace,
                JobCounters.Delta(partition, JobCounters.DeltaRowKey(job.Id, 0), job.Type, job.Owner, from.Status, null)),
        };
        var cleanup = Enum.GetValues<IndexFamily>()
            .Select(family => TableKeys.IndexRowKey(family, IsCreated(family) ? from.CreatedAt : from.ChangedAt, job.Id))
            .Select(key => Delete(partition, key)).ToList();
        if (allJobs)
        {
            if (IsLive(from.Status) && job.Deadline is { } deadline)
            {
                cleanup.Add(Delete(partition, TableKeys.ActiveRowKey(deadline, job.Id)));
            }
            required.AddRange(DirtyRows(partition, dirty));
        }
        return new ProjectionPlan(required, cleanup);
    }

    /// <summary>The list rows of <paramref name="from"/> that <paramref name="to"/> does not rewrite (RowKeys differ).</summary>
    private static IEnumerable<string> StaleRows(string jobId, string partition, ProjectedState from, ProjectedState to)
    {
        foreach (var family in Enum.GetValues<IndexFamily>())
        {
            var was = IsCreated(family) ? from.CreatedAt : from.ChangedAt;
            var now = IsCreated(family) ? to.CreatedAt : to.ChangedAt;
            if (was != now)
            {
                yield return TableKeys.IndexRowKey(family, was, jobId);
            }
        }
    }

    private static IEnumerable<TableTransactionAction> DirtyRows(string partition, IReadOnlyCollection<string> dirty) =>
        dirty.Select(other => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
            new TableEntity(partition, DirtyRowKey(other)) { ["Partition"] = other }));

    private static TableEntity Marker(string jobId, string partition, ProjectedState state) => new(partition, MarkerRowKey(jobId, state))
    {
        ["JobId"] = jobId,
        ["Seq"] = state.Seq,
        ["Status"] = state.Status.ToWire(),
        ["ChangedAt"] = state.ChangedAt,
        ["CreatedAt"] = state.CreatedAt,
    };

    /// <summary>The state a marker row records; null for the birth marker, which records none.</summary>
    public static ProjectedState? ReadMarker(TableEntity row) => row.GetInt32("Seq") is null or 0 ? null : new(
        row.GetInt32("Seq") ?? 0,
        StoredStatus.Parse(row.GetString("Status"), $"Marker {row.RowKey} in {row.PartitionKey}"),
        row.GetDateTimeOffset("ChangedAt") ?? default,
        row.GetDateTimeOffset("CreatedAt") ?? default);

    private static TableTransactionAction Delete(string partition, string rowKey) =>
        new(TableTransactionActionType.Delete, new TableEntity(partition, rowKey), ETag.All);

    private static bool IsCreated(IndexFamily family) => family is IndexFamily.CreatedAscending or IndexFamily.CreatedDescending;

    private static bool IsLive(JobStatus status) => LiveJobIndex.IsLive(status);
}
