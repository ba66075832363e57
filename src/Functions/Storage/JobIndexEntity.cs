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

    /// <summary>The job's tags, comma-separated (no tag holds a comma: <see cref="JobTags"/>); null: none.</summary>
    public string? Tags { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The tags of a row's <see cref="Tags"/> column.</summary>
    public static IReadOnlyList<string> ReadTags(string? tags) => tags is null ? [] : tags.Split(',');

    /// <summary>
    /// What a row is written as: a job with tags also gets one <see cref="TableKeys.TagColumn"/> per tag (true), which a
    /// listing by several tags filters on; a job without tags, the row as it is.
    /// </summary>
    public ITableEntity ToStored(IReadOnlyList<string> tags)
    {
        if (tags.Count == 0)
        {
            return this;
        }
        var row = new TableEntity(PartitionKey, RowKey)
        {
            [nameof(JobId)] = JobId,
            [nameof(Type)] = Type,
            [nameof(Status)] = Status,
            [nameof(Owner)] = Owner,
            [nameof(EntityType)] = EntityType,
            [nameof(EntityId)] = EntityId,
            [nameof(CorrelationId)] = CorrelationId,
            [nameof(Tags)] = Tags,
            [nameof(CreatedAt)] = CreatedAt,
            [nameof(UpdatedAt)] = UpdatedAt,
        };
        foreach (var tag in tags)
        {
            row[TableKeys.TagColumn(tag)] = true;
        }
        return row;
    }

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
                Tags = job.Tags.Count == 0 ? null : string.Join(',', job.Tags),
                CreatedAt = job.CreatedAt,
                UpdatedAt = indexedAt,
            };
        }
    }

}
