using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// A list row: a small projection of a job under one index partition (see <see cref="TableKeys"/>), so a page
/// of a listing is one range query and never a point read per job. Rewritten on every status change.
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

    public static IEnumerable<JobIndexEntity> For(Job job)
    {
        var rowKey = TableKeys.IndexRowKey(job.CreatedAt, job.Id);
        yield return Project(job, TableKeys.AllIndexPartition, rowKey);
        yield return Project(job, TableKeys.OwnerIndexPartition(job.Owner), rowKey);
        if (job.Entity is { } entity)
        {
            yield return Project(job, TableKeys.EntityIndexPartition(entity.Type, entity.Id), rowKey);
        }
    }

    private static JobIndexEntity Project(Job job, string partition, string rowKey) => new()
    {
        PartitionKey = partition,
        RowKey = rowKey,
        JobId = job.Id,
        Type = job.Type,
        Status = job.Status.ToWire(),
        Owner = job.Owner,
        EntityType = job.Entity?.Type,
        EntityId = job.Entity?.Id,
        CorrelationId = job.CorrelationId,
        CreatedAt = job.CreatedAt,
        UpdatedAt = job.UpdatedAt,
    };
}
