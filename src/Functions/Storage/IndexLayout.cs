using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Storage;

/// <summary>
/// Which partitions hold a scope's list rows and a job's (docs/storage.md, docs/scale.md): the all-jobs scope is spread
/// over <see cref="AllBuckets"/> partitions (<see cref="StorageOptions.AllIndexBuckets"/>; the live-job rows with them),
/// an owner's over <see cref="OwnerBuckets"/> (<see cref="StorageOptions.OwnerIndexBuckets"/>), an entity's is one. A job's
/// rows in a spread scope go to the bucket its id names; a listing reads one range per bucket and merges them
/// (<see cref="JobListIndex"/>).
/// </summary>
public sealed class IndexLayout
{
    /// <summary>The row that records the layout a table's rows were written with (PartitionKey is no job id: ids are 32 hex digits).</summary>
    internal const string LayoutPartition = "meta";
    internal const string LayoutRowKey = "index-layout";
    internal const string OwnerBucketsColumn = "OwnerIndexBuckets";
    internal const string AllBucketsColumn = "AllIndexBuckets";

    /// <summary>The all-jobs bucket count of every table written before it could be set (and recorded).</summary>
    public const int LegacyAllBuckets = 16;

    private readonly IReadOnlyList<string> _allPartitions;

    public IndexLayout(IOptions<StorageOptions> options)
        : this(options.Value.OwnerIndexBuckets, options.Value.AllIndexBuckets)
    {
    }

    public IndexLayout(int ownerBuckets, int allBuckets = StorageOptions.DefaultAllIndexBuckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ownerBuckets, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(allBuckets, 1);
        OwnerBuckets = ownerBuckets;
        AllBuckets = allBuckets;
        _allPartitions = [.. Enumerable.Range(0, allBuckets).Select(TableKeys.AllIndexPartition)];
    }

    public int OwnerBuckets { get; }

    public int AllBuckets { get; }

    /// <summary>The partitions a listing of <paramref name="scope"/> reads: one, or its buckets (merged when read).</summary>
    public IReadOnlyList<string> PartitionsOf(JobListScope scope) => scope switch
    {
        JobListScope.All => _allPartitions,
        JobListScope.Owner owner => [.. Enumerable.Range(0, OwnerBuckets).Select(bucket => OwnerPartition(owner.Name, bucket))],
        JobListScope.Entity entity => [TableKeys.EntityIndexPartition(entity.Type, entity.Id)],
        JobListScope.Tag tag => [TableKeys.TagIndexPartition(tag.Name)],
        _ => throw new ArgumentOutOfRangeException(nameof(scope)),
    };

    /// <summary>The partitions holding <paramref name="job"/>'s rows: its all-jobs bucket, its owner's (bucket), its entity's, one per tag.</summary>
    public IEnumerable<string> PartitionsOf(Job job)
    {
        yield return AllPartitionOf(job.Id);
        yield return OwnerPartition(job.Owner, TableKeys.BucketOf(job.Id, OwnerBuckets));
        if (job.Entity is { } entity)
        {
            yield return TableKeys.EntityIndexPartition(entity.Type, entity.Id);
        }
        foreach (var tag in job.Tags)
        {
            yield return TableKeys.TagIndexPartition(tag);
        }
    }

    /// <summary>A job's all-jobs bucket: its list rows there, and its live-job row while it needs one.</summary>
    public string AllPartitionOf(string jobId) => _allPartitions[TableKeys.BucketOf(jobId, AllBuckets)];

    /// <summary>Whether <paramref name="partition"/> is one of the all-jobs buckets.</summary>
    public bool IsAllJobsPartition(string partition) => _allPartitions.Contains(partition);

    /// <summary>An owner's partition for a bucket: with one bucket, the name an owner's rows have always had.</summary>
    private string OwnerPartition(string owner, int bucket) =>
        OwnerBuckets == 1 ? TableKeys.OwnerIndexPartition(owner) : TableKeys.OwnerIndexPartition(owner, bucket);

    /// <summary>
    /// Records this layout in <paramref name="table"/> on its first start, and refuses to run on a table whose rows were
    /// written with another: a changed bucket count would leave every listed job's rows where no listing reads them. A
    /// table with rows but no record predates it: its owner rows in one-partition names were written with one bucket, its
    /// all-jobs rows with <see cref="LegacyAllBuckets"/>, as is a table whose record predates the all-jobs setting. One
    /// with owner rows in bucket names but no record has lost it, and its count cannot be told.
    /// </summary>
    public async Task EnsureTableMatchesAsync(TableClient table, CancellationToken cancellationToken)
    {
        var recorded = await ReadRecordedAsync(table, cancellationToken);
        if (recorded is null)
        {
            var owner = await FirstPartitionAsync(table, TableKeys.OwnerIndexPrefix, TableKeys.OwnerIndexPrefixEnd, cancellationToken) switch
            {
                null => OwnerBuckets,
                var partition when !partition[TableKeys.OwnerIndexPrefix.Length..].Contains('-', StringComparison.Ordinal) => 1,
                _ => throw new InvalidOperationException(
                    $"Table '{table.Name}' has owner list rows in buckets but no record of their count ({LayoutPartition}/{LayoutRowKey}): " +
                    $"restore that row with the {StorageOptions.Section}:{nameof(StorageOptions.OwnerIndexBuckets)} the rows were written with."),
            };
            var all = await FirstPartitionAsync(table, TableKeys.AllIndexPrefix, TableKeys.AllIndexPrefixEnd, cancellationToken) is null ? AllBuckets : LegacyAllBuckets;
            try
            {
                await table.AddEntityAsync(new TableEntity(LayoutPartition, LayoutRowKey) { [OwnerBucketsColumn] = owner, [AllBucketsColumn] = all }, cancellationToken);
                recorded = new Recorded(owner, all);
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                recorded = await ReadRecordedAsync(table, cancellationToken); // another instance started first
            }
        }
        if (recorded is not { Owner: >= 1, All: null or >= 1 })
        {
            throw new InvalidOperationException(
                $"Table '{table.Name}' has a {LayoutPartition}/{LayoutRowKey} row without a positive whole-number {OwnerBucketsColumn} (or {AllBucketsColumn}).");
        }
        if (recorded.Owner != OwnerBuckets)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{StorageOptions.Section}:{nameof(StorageOptions.OwnerIndexBuckets)} is {OwnerBuckets}, but the list rows in table '{table.Name}' " +
                $"were written with {recorded.Owner}: set it back to {recorded.Owner}. Rows stay in the partitions they were written to, so a changed value would hide every listed job from its owner's listing."));
        }
        var allWritten = recorded.All ?? LegacyAllBuckets;
        if (allWritten != AllBuckets)
        {
            var legacy = recorded.All is null ? $" (its layout record predates the setting: every table before it was written with {LegacyAllBuckets})" : "";
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{StorageOptions.Section}:{nameof(StorageOptions.AllIndexBuckets)} is {AllBuckets}, but the all-jobs list rows in table '{table.Name}' " +
                $"were written with {allWritten}{legacy}: set it to {allWritten}. Rows stay in the partitions they were written to, so a changed value would hide jobs from the admins' listing and from the reconciler."));
        }
    }

    /// <summary>
    /// Whether <paramref name="table"/>'s layout record is there and names this layout (read-only: one point read, for the
    /// health check). False when the record is gone or names other counts; a storage failure throws.
    /// </summary>
    public async Task<bool> RecordMatchesAsync(TableClient table, CancellationToken cancellationToken) =>
        await ReadRecordedAsync(table, cancellationToken) is { } recorded
            && recorded.Owner == OwnerBuckets && (recorded.All ?? LegacyAllBuckets) == AllBuckets;

    /// <summary>The recorded counts (<see cref="Recorded.All"/> null: recorded before the all-jobs count was); null when there is no record, 0 for a count that is not a number.</summary>
    private static async Task<Recorded?> ReadRecordedAsync(TableClient table, CancellationToken cancellationToken)
    {
        var row = await table.GetEntityIfExistsAsync<TableEntity>(LayoutPartition, LayoutRowKey, [OwnerBucketsColumn, AllBucketsColumn], cancellationToken);
        if (!row.HasValue)
        {
            return null;
        }
        static int? Count(TableEntity entity, string column) =>
            !entity.TryGetValue(column, out var value) || value is null ? null : value is int count ? count : 0;
        return new Recorded(Count(row.Value!, OwnerBucketsColumn) ?? 0, Count(row.Value!, AllBucketsColumn));
    }

    private static async Task<string?> FirstPartitionAsync(TableClient table, string from, string to, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {from} and PartitionKey lt {to}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["PartitionKey"], cancellationToken: cancellationToken))
        {
            return row.PartitionKey;
        }
        return null;
    }

    private sealed record Recorded(int Owner, int? All);
}
