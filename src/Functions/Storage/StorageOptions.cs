using System.ComponentModel.DataAnnotations;

namespace Jobs.Functions.Storage;

/// <summary>Storage settings, bound from <c>Jobs:Storage</c> (<c>Jobs__Storage__*</c> in app settings).</summary>
public sealed class StorageOptions
{
    public const string Section = "Jobs:Storage";

    /// <summary>
    /// Name of the storage connection (the Functions host's own by default): a setting holding a connection string, or,
    /// for an identity-based connection, the prefix of <c>{name}__accountName</c> (or <c>__blobServiceUri</c>,
    /// <c>__queueServiceUri</c>, <c>__tableServiceUri</c>) with <c>__credential</c> and <c>__clientId</c>.
    /// </summary>
    [Required]
    public string ConnectionSetting { get; set; } = "AzureWebJobsStorage";

    /// <summary>Prepended to table names, so several deployments (or test runs) can share one account.</summary>
    [RegularExpression("^[A-Za-z0-9]{0,20}$")]
    public string TablePrefix { get; set; } = "";

    /// <summary>Retries of a failed storage request (exponential back-off). Fewer means a faster 503 when storage is down.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>Blob container that export jobs write to.</summary>
    [RegularExpression("^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")]
    public string ArtifactContainer { get; set; } = "job-artifacts";

    /// <summary>
    /// Partitions each owner's list rows are spread over (<see cref="IndexLayout"/>, docs/scale.md). One partition takes
    /// about 2,000 entities a second on Azure, about 70 jobs a second of one owner; a deployment where one caller (a
    /// service principal, say) submits more sets a few, and each page of an owner's listing then reads one range per
    /// bucket. Fixed from a table's first start (recorded there): rows stay where they were written, so start-up refuses a change.
    /// </summary>
    [Range(1, 16)]
    public int OwnerIndexBuckets { get; set; } = 1;

    /// <summary>
    /// Partitions the all-jobs scope's list rows (and the live-job rows) are spread over (<see cref="IndexLayout"/>,
    /// docs/scale.md). The default, 5, is the most that keeps an admin's first page with its total at 6 storage requests
    /// (one range read per bucket and one read of the counts), and lets the all-jobs partitions take about 280 jobs a second
    /// on Azure, above the ~215 one storage account holding the service's tables takes. Raise it only for a deployment that
    /// spreads the tables over accounts; each page of the admins' listing reads one range per bucket. Fixed from a table's
    /// first start (recorded there); a table from before this setting was written with 16.
    /// </summary>
    [Range(1, 64)]
    public int AllIndexBuckets { get; set; } = DefaultAllIndexBuckets;

    public const int DefaultAllIndexBuckets = 5;

    /// <summary>
    /// Continuation requests one listing call may make (a page, or a multi-tag total's walk) beyond the first range query
    /// of each partition and phase, which the page's plan already bounds (<c>JobListLimits.MaxStorageQueries</c>). A filter
    /// that storage evaluates while scanning (a status or type in a time order, a correlation id, a second tag, an owner in
    /// a shared partition) can be answered with few or no rows and a continuation, each response after up to 1,000 rows or
    /// 5 s of scanning; past this many, the page is answered with the rows found so far (possibly none) and a <c>next</c>
    /// that resumes where the scan stopped, and such a total is unknown. An ordinary page follows no continuation; 10 lets
    /// a scan cover about 10,000 rows of a partition per page and keeps its worst case near 10 × 5 s (docs/storage.md).
    /// </summary>
    [Range(1, 1000)]
    public int ListContinuationBudget { get; set; } = 10;
}
