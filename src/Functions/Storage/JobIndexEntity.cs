using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// A list row: a small projection of a job in one index partition and RowKey family (see <see cref="TableKeys"/>),
/// so a page of a listing is one range query and never a point read per job. Rewritten on every status change,
/// not on progress: <see cref="UpdatedAt"/> here is the time of the last status change.
/// </summary>
public sealed class JobIndexEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string JobId { get; set; } = "";
    public string Type { get; set; } = "";
    public string Status { get; set; } = "";
    public string Owner { get; set; } = "";
    public string? EntityType { get; set; }
    public string? EntityId { get; set; }
    public string? CorrelationId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The four rows of a job in one partition, for the job as indexed at <paramref name="indexedAt"/>.</summary>
    public static IEnumerable<JobIndexEntity> Rows(Job job, string partition, DateTimeOffset indexedAt)
    {
        foreach (var family in Enum.GetValues<IndexFamily>())
        {
            var time = family is IndexFamily.CreatedAscending or IndexFamily.CreatedDescending ? job.CreatedAt : indexedAt;
            yield return new JobIndexEntity
            {
                PartitionKey = partition,
                RowKey = TableKeys.IndexRowKey(family, time, job.Id),
                JobId = job.Id,
                Type = job.Type,
                Status = job.Status.ToWire(),
                Owner = job.Owner,
                EntityType = job.Entity?.Type,
                EntityId = job.Entity?.Id,
                CorrelationId = job.CorrelationId,
                CreatedAt = job.CreatedAt,
                UpdatedAt = indexedAt,
            };
        }
    }

}
