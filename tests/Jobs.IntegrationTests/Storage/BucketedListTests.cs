using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Storage;

/// <summary>
/// The all-jobs scope is spread over <see cref="IndexLayout.AllBuckets"/> partitions (docs/scale.md) and merged when
/// read. Against Azurite: paging walks every job exactly once in order, and what a page costs.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class BucketedListTests(RunnerFixture runner)
{
    [Fact]
    public async Task AllJobsPages_MergeTheBuckets_InOrder_ExactlyOnce_AtAboutOneQueryPerBucket()
    {
        var index = runner.Services.GetRequiredService<JobListIndex>();
        var layout = runner.Services.GetRequiredService<IndexLayout>();
        await AssertBucketedPagingAsync(runner.Storage.JobsTable, index, layout, new JobListScope.All(), "bucket-owner", layout.AllBuckets);
    }

    /// <summary>
    /// Seeds 300 jobs' rows (a type and time window no other test uses) into the partitions <paramref name="layout"/>
    /// gives them, then walks <paramref name="scope"/> 25 at a time: every job exactly once, newest first, each page one
    /// range query per bucket (each is asked for every row the page may need, limit + 1), so at most buckets × (limit + 1)
    /// rows read; then oldest first, with an offset.
    /// </summary>
    internal static async Task AssertBucketedPagingAsync(TableClient table, JobListIndex index, IndexLayout layout, JobListScope scope, string owner, int buckets)
    {
        var type = "bucket-test-" + Guid.NewGuid().ToString("N")[..8];
        var start = new DateTimeOffset(2090, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var jobs = Enumerable.Range(0, 300).Select(i => new Job
        {
            Id = Guid.NewGuid().ToString("N"), Type = type, Status = JobStatus.Completed, Owner = owner,
            CreatedAt = start.AddSeconds(i), UpdatedAt = start.AddSeconds(i),
        }).ToList();
        var scopePartitions = layout.PartitionsOf(scope);
        var rows = jobs.SelectMany(j => layout.PartitionsOf(j).Where(scopePartitions.Contains).SelectMany(p => JobIndexEntity.Rows(j, p, j.UpdatedAt))).ToList();
        foreach (var partition in rows.GroupBy(r => r.PartitionKey))
        {
            foreach (var chunk in partition.Chunk(100))
            {
                await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)));
            }
        }
        Assert.Equal(buckets, scopePartitions.Count);
        Assert.True(rows.Select(r => r.PartitionKey).Distinct().Count() > buckets / 2, "ids spread over the buckets");

        const int Limit = 25;
        var query = new JobListQuery
        {
            Scope = scope, Types = new HashSet<string> { type }, Limit = Limit,
            CreatedFrom = start, CreatedTo = start.AddHours(1), KnownTypes = [type],
        };
        var seen = new List<string>();
        var pages = 0;
        while (true)
        {
            var page = await index.ListAsync(query, default);
            pages++;
            seen.AddRange(page.Jobs.Select(j => j.Id));
            Assert.Equal(buckets, page.StorageRequests);
            Assert.InRange(page.RowsRead, page.Jobs.Count, buckets * (Limit + 1));
            if (page.Next is null)
            {
                break;
            }
            Assert.Equal(Limit, page.Jobs.Count);
            query = query with { After = page.Next };
        }
        Assert.Equal(jobs.OrderByDescending(j => j.CreatedAt).Select(j => j.Id), seen);
        Assert.Equal(12, pages);

        // Oldest first, with an offset: the same rows.
        var ascending = await index.ListAsync(query with { After = null, Descending = false, Offset = 290, Limit = 20 }, default);
        Assert.Equal(jobs.Skip(290).Select(j => j.Id), ascending.Jobs.Select(j => j.Id));
    }
}
