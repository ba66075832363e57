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

/// <summary>What a listing is ordered by.</summary>
public enum JobOrder
{
    CreatedAt,
    UpdatedAt,
    Type,
    Status,
}

/// <summary>Where the previous page stopped: the phase (for type/status orders) and the last RowKey read.</summary>
public sealed record ListCursor(int Phase, string RowKey);

/// <summary>A validated listing request: one scope, optional filters, an order, a page size and a cursor or offset.</summary>
public sealed record JobListQuery
{
    public required JobListScope Scope { get; init; }
    public IReadOnlySet<JobStatus> Statuses { get; init; } = new HashSet<JobStatus>();
    public IReadOnlySet<string> Types { get; init; } = new HashSet<string>();

    /// <summary>Restricts to one owner inside a shared partition (admin listings, entity listings).</summary>
    public string? Owner { get; init; }
    public DateTimeOffset? CreatedFrom { get; init; }
    public DateTimeOffset? CreatedTo { get; init; }
    public int Limit { get; init; } = 50;
    public JobOrder OrderBy { get; init; } = JobOrder.CreatedAt;
    public bool Descending { get; init; } = true;

    /// <summary>Rows to skip before the page; each skipped row is still read (see docs/storage.md).</summary>
    public int Offset { get; init; }
    public ListCursor? After { get; init; }

    /// <summary>Every known job type, walked in order when ordering by type.</summary>
    public IReadOnlyList<string> KnownTypes { get; init; } = [];

    internal IndexFamily Family => (OrderBy, Descending) switch
    {
        (JobOrder.UpdatedAt, true) => IndexFamily.UpdatedDescending,
        (JobOrder.UpdatedAt, false) => IndexFamily.UpdatedAscending,
        (_, true) => IndexFamily.CreatedDescending,
        _ => IndexFamily.CreatedAscending,
    };
}

/// <summary>One row of a listing.</summary>
public sealed record JobSummary(
    string Id, string Type, JobStatus Status, string Owner, EntityRef? Entity, string? CorrelationId,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A page of a listing; <see cref="Next"/> is null on the last page.</summary>
public sealed record JobPage(IReadOnlyList<JobSummary> Jobs, ListCursor? Next, int StorageRequests, int RowsRead);
