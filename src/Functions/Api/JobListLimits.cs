using Jobs.Functions.Handlers;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Api;

/// <summary>
/// What one listing request may cost (issue 25: a type filter of 900 unknown names cost ~900 storage queries). Filter
/// values are known names (the statuses, the registered job types), at most <see cref="MaxFilterValues"/> a filter, and
/// the range queries a page is planned to take — one per partition of the scope for a time order, one per partition and
/// value for a type or status order — at most <see cref="MaxStorageQueries"/>. Beyond them the request is a 400 naming
/// the parameter; nothing is read.
/// </summary>
public static class JobListLimits
{
    /// <summary>Values one filter (<c>status</c>, <c>type</c>) may list: every status fits (there are nine).</summary>
    public const int MaxFilterValues = 10;

    /// <summary>
    /// Range queries one page may be planned to take. 144 lets an admin order by status over the 16 all-jobs buckets of a
    /// table from before the bucket setting (9 statuses × 16 = 144); at the default 5 buckets a page takes at most 45.
    /// </summary>
    public const int MaxStorageQueries = 144;

    /// <summary>Null when the filters are within the limits; otherwise the problem, naming the parameter.</summary>
    public static InputError? CheckFilter(string parameter, IReadOnlyCollection<string> values, IReadOnlyCollection<string> known)
    {
        if (values.Count > MaxFilterValues)
        {
            return new InputError(parameter, $"may list at most {MaxFilterValues} values");
        }
        var unknown = values.FirstOrDefault(v => !known.Contains(v));
        return unknown is null ? null
            : new InputError(parameter, $"'{Problems.Printable(unknown)}' is not one of {string.Join(", ", known)}");
    }

    /// <summary>
    /// Null when a page of <paramref name="query"/> over <paramref name="partitions"/> partitions is planned to take at most
    /// <see cref="MaxStorageQueries"/> range queries; otherwise the problem, naming the parameter that multiplies them (the
    /// filter of the order's values, or <c>orderBy</c> when no filter narrows them).
    /// </summary>
    public static InputError? CheckCost(JobListQuery query, int partitions)
    {
        var queries = JobListIndex.Phases(query).Count * partitions;
        if (queries <= MaxStorageQueries)
        {
            return null;
        }
        var parameter = query.OrderBy switch
        {
            JobOrder.Type when query.Types.Count > 0 => "type",
            JobOrder.Status when query.Statuses.Count > 0 => "status",
            _ => "orderBy",
        };
        return new InputError(parameter, $"would cost {queries} storage queries ({partitions} partitions × {queries / partitions} values), more than the {MaxStorageQueries} one page may; list fewer values or order by createdAt or updatedAt");
    }

}
