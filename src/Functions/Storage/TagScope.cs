namespace Jobs.Functions.Storage;

/// <summary>
/// Which tag partition a listing by tags reads (docs/storage.md, "Tags"): every tag's counts are read at once (one range
/// read per tag, at most 10), and the tag with the fewest jobs in reach is the scope — its partition is read and the other
/// tags are checked on the row, so a page is still one range read and never walks more rows than the rarest tag has.
/// </summary>
public static class TagScope
{
    /// <summary>
    /// A listing by several tags has a total only when the rarest tag has at most this many jobs in reach: the total is then
    /// a walk of that tag's rows (<see cref="JobListIndex.CountAsync"/>), one response of ids.
    /// </summary>
    public const int MaxCountedRows = 1_000;

    /// <summary>The scope to read for <paramref name="tags"/> (at least one), with that tag's counts.</summary>
    public static async Task<(JobListScope.Tag Scope, JobCounts Counts)> SmallestAsync(JobCounters counters, IReadOnlyList<string> tags, string? owner,
        CancellationToken cancellationToken)
    {
        var counted = await Task.WhenAll(tags.Distinct(StringComparer.Ordinal).Select(async tag =>
        {
            var scope = new JobListScope.Tag(tag);
            return (Scope: scope, Counts: await counters.ReadAsync(scope, cancellationToken));
        }));
        var empty = new HashSet<string>();
        return counted.MinBy(c => c.Counts.Total(new HashSet<Model.JobStatus>(), empty, owner));
    }
}
