using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>Which index partition a listing reads.</summary>
public abstract record JobListScope
{
    private JobListScope() { }

    internal abstract string Partition { get; }

    public sealed record All : JobListScope
    {
        internal override string Partition => TableKeys.AllIndexPartition;
    }

    public sealed record Owner(string Name) : JobListScope
    {
        internal override string Partition => TableKeys.OwnerIndexPartition(Name);
    }

    public sealed record Entity(string Type, string Id) : JobListScope
    {
        internal override string Partition => TableKeys.EntityIndexPartition(Type, Id);
    }
}

/// <summary>A validated listing request: one scope, optional filters, a page size and a cursor.</summary>
public sealed record JobListQuery
{
    public required JobListScope Scope { get; init; }
    public IReadOnlySet<JobStatus> Statuses { get; init; } = new HashSet<JobStatus>();
    public IReadOnlySet<string> Types { get; init; } = new HashSet<string>();

    /// <summary>Only for admin scopes: restricts to one owner without switching partitions.</summary>
    public string? Owner { get; init; }
    public DateTimeOffset? CreatedFrom { get; init; }
    public DateTimeOffset? CreatedTo { get; init; }
    public int Limit { get; init; } = 50;

    /// <summary>The index RowKey of the last job of the previous page.</summary>
    public string? After { get; init; }
}

/// <summary>One row of a listing.</summary>
public sealed record JobSummary(
    string Id, string Type, JobStatus Status, string Owner, EntityRef? Entity, string? CorrelationId,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A page of a listing; <see cref="Next"/> is null on the last page.</summary>
public sealed record JobPage(IReadOnlyList<JobSummary> Jobs, string? Next, int StorageRequests, int RowsRead);
