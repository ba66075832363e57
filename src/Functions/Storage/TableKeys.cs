using System.Globalization;

namespace Jobs.Functions.Storage;

/// <summary>Which RowKey family of an index partition a listing walks.</summary>
public enum IndexFamily
{
    CreatedDescending,
    CreatedAscending,
    UpdatedDescending,
    UpdatedAscending,
}

/// <summary>
/// Key design of the <c>Jobs</c> table (docs/storage.md has the full picture and the cost of each operation):
/// <list type="bullet">
/// <item>Record row: PartitionKey = job id (32 hex chars), RowKey = <c>job</c>. One point read per job.</item>
/// <item>Index rows: PartitionKey = <c>idx-all-{bucket}</c>, <c>idx-owner-{owner}</c> (or <c>idx-owner-{owner}-{bucket}</c>)
/// <c>idx-entity-{type}-{id}</c> or <c>idx-tag-{tag}</c>; how many buckets a scope has, and which holds a job, is <see cref="IndexLayout"/>'s.
/// In each, four RowKey families: <c>cd-</c>/<c>ca-</c> (created, newest/oldest first) and <c>ud-</c>/<c>ua-</c>
/// (last status change), each followed by 19-digit ticks (inverted for descending) and the id. One scope's rows
/// share a partition, so they are rewritten in one entity-group transaction.</item>
/// <item>Log lines: in the job's partition, RowKey = <c>log-</c> + cursor. Live-job rows: in the job's <c>idx-all-{bucket}</c>, RowKey =
/// <c>live-</c> + deadline ticks + id.</item>
/// <item>Idempotency rows: PartitionKey = <c>idem-{owner}</c>, RowKey = the key; they name the job.</item>
/// <item>Schedules: PartitionKey = <c>sched</c> (<see cref="SchedulePartition"/>).</item>
/// </list>
/// User values inside keys are percent-encoded, so <c>/ \ # ?</c> and control characters never reach a key.
/// </summary>
public static class TableKeys
{
    public const string RecordRowKey = "job";

    /// <summary>A job's bucket among <paramref name="buckets"/>, from its id's first hex digits (ids are random), so it never changes.</summary>
    public static int BucketOf(string jobId, int buckets) =>
        (int)((int.TryParse(jobId.AsSpan(0, Math.Min(2, jobId.Length)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            ? (uint)value
            : (uint)string.GetHashCode(jobId, StringComparison.Ordinal)) % (uint)buckets);

    /// <summary>One bucket of the all-jobs scope: <c>idx-all-</c> + the bucket (how many there are is <see cref="IndexLayout"/>'s).</summary>
    public static string AllIndexPartition(int bucket) => AllIndexPrefix + bucket.ToString("x2", CultureInfo.InvariantCulture);

    public const string AllIndexPrefix = "idx-all-";

    /// <summary>The end of the all-jobs buckets' partitions ('.' sorts right after '-').</summary>
    public const string AllIndexPrefixEnd = "idx-all.";

    /// <summary>
    /// The all-jobs counts summed over the buckets (<see cref="JobCounters"/>): one row, <see cref="CounterRowKey"/>, in a
    /// partition of its own, so an admin's total is one point read whatever the bucket count.
    /// </summary>
    public const string AllCountsPartition = "cnt-all";

    /// <summary>
    /// Live (pending/running) jobs by deadline: a RowKey family of the job's all-jobs bucket, so the row is written in the
    /// same transaction as the job's all-jobs list rows, and the reconciler reads one short range per bucket.
    /// </summary>
    public const string ActiveRowKeyPrefix = "live-";

    /// <summary>The end of the live family's key range ('.' sorts right after '-').</summary>
    public const string ActiveRowKeyEnd = "live.";

    public static string ActiveRowKey(DateTimeOffset deadline, string id) => ActiveRowKeyPrefix + TimeKey(IndexFamily.CreatedAscending, deadline) + "-" + id;

    /// <summary>The deadline an <see cref="ActiveRowKey"/> sorts by.</summary>
    public static DateTimeOffset ActiveDeadline(string rowKey) =>
        new(long.Parse(rowKey.AsSpan(ActiveRowKeyPrefix.Length, 19), NumberStyles.None, CultureInfo.InvariantCulture), TimeSpan.Zero);

    /// <summary>Log lines are rows of their job's partition: <c>log-</c> + the line's cursor.</summary>
    public const string LogRowKeyPrefix = "log-";

    /// <summary>The end of the log family's key range.</summary>
    public const string LogRowKeyEnd = "log.";

    public static string LogRowKey(string cursor) => LogRowKeyPrefix + cursor;

    public static string LogCursor(string rowKey) => rowKey[LogRowKeyPrefix.Length..];

    /// <summary>
    /// Count rows of an index partition (<see cref="JobCounters"/>): the folded counter (<c>cnt-c</c>) and the deltas not yet
    /// folded into it (<c>cnt-d-</c> + id + change number + a unique suffix).
    /// </summary>
    public const string CountRowKeyPrefix = "cnt-";

    /// <summary>The end of the count rows' key range.</summary>
    public const string CountRowKeyEnd = "cnt.";

    public const string CounterRowKey = "cnt-c";

    /// <summary>
    /// Entity and tag partitions are shared by owners, so their counts are kept per owner (an owner's entity or tag
    /// listing has a total too).
    /// </summary>
    public static bool CountsByOwner(string partition) =>
        partition.StartsWith("idx-entity-", StringComparison.Ordinal) || partition.StartsWith(TagIndexPrefix, StringComparison.Ordinal);

    /// <summary>An owner's partition when its rows are not spread (<see cref="StorageOptions.OwnerIndexBuckets"/> = 1, the default).</summary>
    public static string OwnerIndexPartition(string owner) => OwnerIndexPrefix + Encode(owner);

    public const string OwnerIndexPrefix = "idx-owner-";

    /// <summary>The end of the owners' partitions ('.' sorts right after '-').</summary>
    public const string OwnerIndexPrefixEnd = "idx-owner.";

    /// <summary>
    /// One of an owner's buckets: <c>idx-owner-{owner}-{bucket}</c>. The encoded owner has no '-', so the name says
    /// which owner and bucket it is, and no owner's bucket is another owner's partition.
    /// </summary>
    public static string OwnerIndexPartition(string owner, int bucket) =>
        OwnerIndexPartition(owner) + "-" + bucket.ToString("x2", CultureInfo.InvariantCulture);

    public static string EntityIndexPartition(string entityType, string entityId) =>
        $"idx-entity-{Encode(entityType)}-{Encode(entityId)}";

    public const string TagIndexPrefix = "idx-tag-";

    /// <summary>A tag's partition (<c>idx-tag-{tag}</c>): every job with the tag, whoever owns it, as an entity's partition holds its jobs.</summary>
    public static string TagIndexPartition(string tag) => TagIndexPrefix + Encode(tag);

    /// <summary>
    /// The list-row column that says a job has <paramref name="tag"/> (<c>Tg</c> + 16 hex digits of its SHA-256, always
    /// <c>true</c>): a listing by several tags reads one tag's partition and filters on the others' columns in the same
    /// range query. The name is made of hex digits only, never of the user's text.
    /// </summary>
    public static string TagColumn(string tag) =>
        "Tg" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(tag)).AsSpan(0, 8));

    /// <summary>
    /// Recurring schedules share one partition, so a schedule's rows change in one entity-group transaction:
    /// <c>s-{owner}-{id}</c> (the record, an owner's schedules one range), <c>id-{id}</c> (the owner, for reads by id) and,
    /// while it is active, <c>due-{ticks}-{id}</c> (when the timer must look at it; the timer reads the range up to now).
    /// </summary>
    public const string SchedulePartition = "sched";

    public const string ScheduleRowKeyPrefix = "s-";

    /// <summary>The end of the schedule records' key range.</summary>
    public const string ScheduleRowKeyEnd = "s.";

    /// <summary>The start of one owner's schedule records (the encoded owner has no '-').</summary>
    public static string ScheduleOwnerPrefix(string owner) => ScheduleRowKeyPrefix + Encode(owner) + "-";

    public static string ScheduleRowKey(string owner, string id) => ScheduleOwnerPrefix(owner) + id;

    public static string ScheduleIdRowKey(string id) => "id-" + id;

    public const string ScheduleDueRowKeyPrefix = "due-";

    public static string ScheduleDueRowKey(DateTimeOffset dueAt, string id) => ScheduleDueRowKeyPrefix + TimeKey(IndexFamily.CreatedAscending, dueAt) + "-" + id;

    /// <summary>The key just above every due row of <paramref name="now"/> or earlier ('.' sorts right after '-').</summary>
    public static string ScheduleDueRowKeyEnd(DateTimeOffset now) => ScheduleDueRowKeyPrefix + TimeKey(IndexFamily.CreatedAscending, now) + ".";

    public static string IdempotencyPartition(string owner) => "idem-" + Encode(owner);

    public static string IdempotencyRowKey(string key) => Encode(key);

    public static string FamilyPrefix(IndexFamily family) => family switch
    {
        IndexFamily.CreatedDescending => "cd-",
        IndexFamily.CreatedAscending => "ca-",
        IndexFamily.UpdatedDescending => "ud-",
        _ => "ua-",
    };

    /// <summary>The end of a family's key range: its RowKeys lie in [prefix, end), since '.' sorts right after '-'.</summary>
    public static string FamilyEnd(IndexFamily family) => FamilyPrefix(family)[..^1] + ".";

    /// <summary>The RowKey of a job in a family: descending families invert the ticks; the id breaks ties.</summary>
    public static string IndexRowKey(IndexFamily family, DateTimeOffset time, string id) =>
        FamilyPrefix(family) + TimeKey(family, time) + "-" + id;

    /// <summary>Ticks as 19 digits, inverted for descending families so that ascending RowKeys read newest first.</summary>
    public static string TimeKey(IndexFamily family, DateTimeOffset time)
    {
        var ticks = family is IndexFamily.CreatedDescending or IndexFamily.UpdatedDescending
            ? DateTime.MaxValue.Ticks - time.UtcTicks
            : time.UtcTicks;
        return ticks.ToString("D19", CultureInfo.InvariantCulture);
    }

    /// <summary>Percent-encodes everything but unreserved characters; '-' is encoded too, keeping it a separator.</summary>
    public static string Encode(string value) => Uri.EscapeDataString(value).Replace("-", "%2D", StringComparison.Ordinal);
}
