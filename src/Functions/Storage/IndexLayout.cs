using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Storage;

/// <summary>
/// Which partitions hold a scope's list rows and a job's (docs/storage.md, docs/scale.md): the all-jobs scope is spread
/// over <see cref="TableKeys.AllIndexBuckets"/> partitions, an owner's over <see cref="OwnerBuckets"/>
/// (<see cref="StorageOptions.OwnerIndexBuckets"/>), an entity's is one. A job's rows in a spread scope go to the
/// bucket its id names; a listing reads one range per bucket and merges them (<see cref="JobListIndex"/>).
/// </summary>
public sealed class IndexLayout
{
    /// <summary>The row that records the layout a table's rows were written with (PartitionKey is no job id: ids are 32 hex digits).</summary>
    internal const string LayoutPartition = "meta";
    internal const string LayoutRowKey = "index-layout";
    private const string OwnerBucketsColumn = "OwnerIndexBuckets";

    public IndexLayout(IOptions<StorageOptions> options)
        : this(options.Value.OwnerIndexBuckets)
    {
    }

    public IndexLayout(int ownerBuckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ownerBuckets, 1);
        OwnerBuckets = ownerBuckets;
    }

    public int OwnerBuckets { get; }

    /// <summary>The partitions a listing of <paramref name="scope"/> reads: one, or its buckets (merged when read).</summary>
    public IReadOnlyList<string> PartitionsOf(JobListScope scope) => scope switch
    {
        JobListScope.All => TableKeys.AllIndexPartitions,
        JobListScope.Owner owner => [.. Enumerable.Range(0, OwnerBuckets).Select(bucket => OwnerPartition(owner.Name, bucket))],
        JobListScope.Entity entity => [TableKeys.EntityIndexPartition(entity.Type, entity.Id)],
        _ => throw new ArgumentOutOfRangeException(nameof(scope)),
    };

    /// <summary>The partitions holding <paramref name="job"/>'s rows: its all-jobs bucket, its owner's (bucket), its entity's.</summary>
    public IEnumerable<string> PartitionsOf(Job job)
    {
        yield return TableKeys.AllIndexPartitionOf(job.Id);
        yield return OwnerPartition(job.Owner, TableKeys.BucketOf(job.Id, OwnerBuckets));
        if (job.Entity is { } entity)
        {
            yield return TableKeys.EntityIndexPartition(entity.Type, entity.Id);
        }
    }

    /// <summary>An owner's partition for a bucket: with one bucket, the name an owner's rows have always had.</summary>
    private string OwnerPartition(string owner, int bucket) =>
        OwnerBuckets == 1 ? TableKeys.OwnerIndexPartition(owner) : TableKeys.OwnerIndexPartition(owner, bucket);

    /// <summary>
    /// Records this layout in <paramref name="table"/> on its first start, and refuses to run on a table whose rows were
    /// written with another: a changed bucket count would leave every listed job's rows where no listing reads them. A
    /// table with owner rows in one-partition names but no record predates it (an owner's rows were always one
    /// partition then); one with owner rows in bucket names but no record has lost it, and its count cannot be told.
    /// </summary>
    public async Task EnsureTableMatchesAsync(TableClient table, CancellationToken cancellationToken)
    {
        var recorded = await ReadRecordedAsync(table, cancellationToken);
        if (recorded is null)
        {
            var written = await FirstOwnerPartitionAsync(table, cancellationToken) switch
            {
                null => OwnerBuckets,
                var partition when !partition[TableKeys.OwnerIndexPrefix.Length..].Contains('-', StringComparison.Ordinal) => 1,
                _ => throw new InvalidOperationException(
                    $"Table '{table.Name}' has owner list rows in buckets but no record of their count ({LayoutPartition}/{LayoutRowKey}): " +
                    $"restore that row with the {StorageOptions.Section}:{nameof(StorageOptions.OwnerIndexBuckets)} the rows were written with."),
            };
            try
            {
                await table.AddEntityAsync(new TableEntity(LayoutPartition, LayoutRowKey) { [OwnerBucketsColumn] = written }, cancellationToken);
                recorded = written;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                recorded = await ReadRecordedAsync(table, cancellationToken); // another instance started first
            }
        }
        if (recorded is null or < 1)
        {
            throw new InvalidOperationException($"Table '{table.Name}' has a {LayoutPartition}/{LayoutRowKey} row without a positive whole-number {OwnerBucketsColumn}.");
        }
        if (recorded != OwnerBuckets)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{StorageOptions.Section}:{nameof(StorageOptions.OwnerIndexBuckets)} is {OwnerBuckets}, but the list rows in table '{table.Name}' " +
                $"were written with {recorded}: set it back to {recorded}. Rows stay in the partitions they were written to, so a changed value would hide every listed job from its owner's listing."));
        }
    }

    /// <summary>The recorded count; null when there is no record, 0 when the record has no usable count.</summary>
    private static async Task<int?> ReadRecordedAsync(TableClient table, CancellationToken cancellationToken)
    {
        var row = await table.GetEntityIfExistsAsync<TableEntity>(LayoutPartition, LayoutRowKey, [OwnerBucketsColumn], cancellationToken);
        return !row.HasValue ? null : row.Value!.TryGetValue(OwnerBucketsColumn, out var value) && value is int count ? count : 0;
    }

    private static async Task<string?> FirstOwnerPartitionAsync(TableClient table, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {TableKeys.OwnerIndexPrefix} and PartitionKey lt {TableKeys.OwnerIndexPrefixEnd}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["PartitionKey"], cancellationToken: cancellationToken))
        {
            return row.PartitionKey;
        }
        return null;
    }
}
