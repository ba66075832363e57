using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>Which index partition a listing reads.</summary>
public abstract record JobListScope
{
    private JobListScope() { }

    // Which partitions hold each scope's rows is the layout's to say (IndexLayout.PartitionsOf).
    public sealed record All : JobListScope;

    public sealed record Owner(string Name) : JobListScope;

    public sealed record Entity(string Type, string Id) : JobListScope;

    /// <summary>The jobs with one tag (a listing by several reads one of them: <see cref="JobListQuery.Tags"/>).</summary>
    public sealed record Tag(string Name) : JobListScope;
}

/// <summary>What a listing is ordered by.</summary>
public enum JobOrder
{
    CreatedAt,
    UpdatedAt,
    Type,
    Status,
}

/// <summary>A <c>next</c> token that is not one this listing handed out (or belongs to another ordering).</summary>
public sealed class InvalidCursorException() : Exception("The cursor is not one from an earlier page of this listing.");

/// <summary>
/// A listing whose <c>offset</c> skips more rows than its request budget reads (<see cref="StorageOptions.ListContinuationBudget"/>):
/// the rows before the page could not all be read, so there is no page to answer; <c>next</c> pages past them.
/// </summary>
public sealed class OffsetBeyondBudgetException(int skipped) : Exception($"The request budget was spent after skipping {skipped} rows of the offset.")
{
    /// <summary>How many of the offset's rows were read before the budget was spent.</summary>
    public int Skipped { get; } = skipped;
}

/// <summary>
/// Where the previous page stopped: the phase (for type/status orders) and a RowKey of it — the last row handed out
/// (the next page reads after it), or, when the request budget cut the page short (<see cref="From"/>), the first key not
/// yet covered (the next page reads from it, inclusive; none: the phase's start). Outside storage it exists only as an
/// opaque token (<see cref="Encode"/>): callers never see or parse RowKeys.
/// </summary>
internal sealed partial record ListCursor(int Phase, string? RowKey, bool From = false)
{
    private const string FromMark = "from";

    // A token names the order it belongs to, so it cannot be replayed against another ordering. A resume point carries a
    // sixth part; the five-part form (the only one before the request budget) still means "after".
    public string Encode(JobListQuery query) =>
        System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(string.Join('|',
            new[] { "v1", query.OrderBy.ToString(), query.Descending ? "desc" : "asc", Phase.ToString(System.Globalization.CultureInfo.InvariantCulture), RowKey ?? "" }
                .Concat(From ? [FromMark] : []))));

    /// <summary>Reads a token of <paramref name="query"/>'s ordering; throws <see cref="InvalidCursorException"/> for anything else.</summary>
    public static ListCursor Decode(string token, JobListQuery query, int phaseCount)
    {
        try
        {
            var parts = System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token)).Split('|');
            if (parts is ["v1", var order, var direction, var phaseText, var rowKey, ..]
                && (parts.Length == 5 || (parts.Length == 6 && parts[5] == FromMark))
                && order == query.OrderBy.ToString() && direction == (query.Descending ? "desc" : "asc")
                && int.TryParse(phaseText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var phase)
                && phase < phaseCount)
            {
                var from = parts.Length == 6;
                if (from && rowKey.Length == 0)
                {
                    return new ListCursor(phase, null, From: true);
                }
                if (rowKey.StartsWith(TableKeys.FamilyPrefix(query.Family), StringComparison.Ordinal) && IndexRowKey().IsMatch(rowKey))
                {
                    return new ListCursor(phase, rowKey, from);
                }
            }
        }
        catch (FormatException)
        {
        }
        throw new InvalidCursorException();
    }

    /// <summary>Whether <paramref name="rowKey"/> has the shape of a list row's key (any family).</summary>
    internal static bool IsIndexRowKey(string rowKey) => IndexRowKey().IsMatch(rowKey);

    [System.Text.RegularExpressions.GeneratedRegex("^[cu][ad]-[0-9]{19}-[0-9a-f]{32}$")]
    private static partial System.Text.RegularExpressions.Regex IndexRowKey();
}

/// <summary>A validated listing request: one scope, optional filters, an order, a page size and a cursor or offset.</summary>
public sealed record JobListQuery
{
    public required JobListScope Scope { get; init; }
    public IReadOnlySet<JobStatus> Statuses { get; init; } = new HashSet<JobStatus>();
    public IReadOnlySet<string> Types { get; init; } = new HashSet<string>();

    /// <summary>Restricts to one owner inside a shared partition (admin listings, entity listings).</summary>
    public string? Owner { get; init; }

    /// <summary>Only jobs created with this correlation id (exact match).</summary>
    public string? CorrelationId { get; init; }

    /// <summary>
    /// Only jobs with every one of these tags. The scope is one of their partitions (<see cref="JobListScope.Tag"/>);
    /// the others are checked on the row (<see cref="TableKeys.TagColumn"/>) in the same range query.
    /// </summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
    public DateTimeOffset? CreatedFrom { get; init; }
    public DateTimeOffset? CreatedTo { get; init; }
    public int Limit { get; init; } = 50;
    public JobOrder OrderBy { get; init; } = JobOrder.CreatedAt;
    public bool Descending { get; init; } = true;

    /// <summary>Rows to skip before the page; each skipped row is still read (see docs/storage.md).</summary>
    public int Offset { get; init; }

    /// <summary>The opaque <c>next</c> token of the previous page, if any.</summary>
    public string? After { get; init; }

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
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>
    /// A queued job's place in line (1: next to start), as <c>GET /api/jobs/{id}</c> gives it; set by the API on a list
    /// page (not stored), absent for other statuses and for a job beyond the head of its type's queue that one read covers.
    /// </summary>
    public int? QueuePosition { get; init; }
}

/// <summary>A page of a listing; <see cref="Next"/> (an opaque token) is null on the last page.</summary>
public sealed record JobPage(IReadOnlyList<JobSummary> Jobs, string? Next, int StorageRequests, int RowsRead);
