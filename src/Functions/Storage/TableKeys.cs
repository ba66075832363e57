using System.Globalization;

namespace Jobs.Functions.Storage;

/// <summary>
/// Key design of the <c>Jobs</c> table (docs/storage.md has the full picture and the cost of each operation):
/// <list type="bullet">
/// <item>Record row: PartitionKey = job id (32 hex chars), RowKey = <c>job</c>. One point read per job.</item>
/// <item>Index rows: PartitionKey = <c>idx-all</c>, <c>idx-owner-{owner}</c> or <c>idx-entity-{type}-{id}</c>,
/// RowKey = inverted creation ticks + id, so a range read returns newest first.</item>
/// <item>Idempotency rows: PartitionKey = <c>idem-{owner}</c>, RowKey = the key; they name the job.</item>
/// </list>
/// User values inside keys are percent-encoded, so <c>/ \ # ?</c> and control characters never reach a key.
/// </summary>
public static class TableKeys
{
    public const string RecordRowKey = "job";
    public const string AllIndexPartition = "idx-all";

    public static string OwnerIndexPartition(string owner) => "idx-owner-" + Encode(owner);

    public static string EntityIndexPartition(string entityType, string entityId) =>
        $"idx-entity-{Encode(entityType)}-{Encode(entityId)}";

    public static string IdempotencyPartition(string owner) => "idem-" + Encode(owner);

    public static string IdempotencyRowKey(string key) => Encode(key);

    /// <summary>Newest first: inverted ticks sort descending, the id breaks ties.</summary>
    public static string IndexRowKey(DateTimeOffset createdAt, string id) =>
        (DateTime.MaxValue.Ticks - createdAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "-" + id;

    /// <summary>Percent-encodes everything but unreserved characters; '-' is encoded too, keeping it a separator.</summary>
    public static string Encode(string value) => Uri.EscapeDataString(value).Replace("-", "%2D", StringComparison.Ordinal);
}
