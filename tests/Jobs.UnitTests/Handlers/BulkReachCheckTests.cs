using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Handlers;

/// <summary>
/// The bulk route's early refusal of a filter over <see cref="BulkHandler.MaxJobs"/> jobs walks the filter's pages only
/// as far as a bounded number of listing calls: a request's cost does not grow with the partition it filters.
/// </summary>
public sealed class BulkReachCheckTests
{
    [Fact]
    public async Task ManyFullPages_AreMoreThanTheCap_AsSoonAsTheyPassIt()
    {
        var pages = new Pages(matchesPerPage: 1_000, pagesInAll: 50);
        Assert.True(await BulkHandler.WalkFindsMoreThanMaxAsync(pages.Next));
        Assert.Equal(BulkHandler.MaxJobs / 1_000 + 1, pages.Read); // 11,000 matched after 11 pages
    }

    [Fact]
    public async Task PagesThatEndWithinTheCap_AreNotMore()
    {
        var pages = new Pages(matchesPerPage: 1_000, pagesInAll: 10);
        Assert.False(await BulkHandler.WalkFindsMoreThanMaxAsync(pages.Next));
        Assert.Equal(10, pages.Read);
    }

    [Fact]
    public async Task ASparseFilter_WhosePagesComeBackShortForever_StopsAfterTheBound_AndLeavesTheDecisionToTheJob()
    {
        // Storage answers a filter on a non-key column a page at a time even when the page holds no match; over a large
        // partition that is many calls. The check stops at its bound (undecided: not refused here; the find step decides).
        var pages = new Pages(matchesPerPage: 0, pagesInAll: int.MaxValue, failAfter: BulkHandler.MaxCheckPages);
        Assert.False(await BulkHandler.WalkFindsMoreThanMaxAsync(pages.Next));
        Assert.Equal(BulkHandler.MaxCheckPages, pages.Read);
    }

    /// <summary>A listing of <paramref name="pagesInAll"/> pages; reading more than <paramref name="failAfter"/> fails the test.</summary>
    private sealed class Pages(int matchesPerPage, int pagesInAll, int failAfter = int.MaxValue)
    {
        public int Read { get; private set; }

        public Task<JobPage> Next(string? after)
        {
            Assert.Equal(Read == 0 ? null : $"page-{Read}", after);
            Read++;
            Assert.True(Read <= failAfter, $"the check read page {Read}, past its bound of {failAfter}");
            var jobs = Enumerable.Range(0, matchesPerPage).Select(i => new JobSummary($"job-{Read}-{i}", "demo.steps", JobStatus.Completed, "owner", null, null,
                DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch)).ToList();
            return Task.FromResult(new JobPage(jobs, Read < pagesInAll ? $"page-{Read}" : null, 1, matchesPerPage));
        }
    }
}
