using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Tests.Storage;

/// <summary>
/// The all-jobs scope is spread over <see cref="TableKeys.AllIndexBuckets"/> partitions (docs/scale.md) and merged when
/// read. Against Azurite: paging walks every job exactly once in order, and what a page costs.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class BucketedListTests(RunnerFixture runner)
{
    [Fact]
    public async Task AllJobsPages_MergeTheBuckets_InOrder_ExactlyOnce_AtAboutOneQueryPerBucket()
    {
        // Rows of a type and time window no other test uses, seeded straight into the buckets.
        var type = "bucket-test-" + Guid.NewGuid().ToString("N")[..8];
        var start = new DateTimeOffset(2090, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var jobs = Enumerable.Range(0, 300).Select(i => new Job
        {
            Id = Guid.NewGuid().ToString("N"), Type = type, Status = JobStatus.Completed, Owner = "bucket-owner",
            CreatedAt = start.AddSeconds(i), UpdatedAt = start.AddSeconds(i),
        }).ToList();
        var table = runner.Storage.JobsTable;
        foreach (var bucket in jobs.GroupBy(j => TableKeys.AllIndexPartitionOf(j.Id)))
        {
            foreach (var chunk in bucket.SelectMany(j => JobIndexEntity.Rows(j, bucket.Key, j.UpdatedAt)).Chunk(100))
            {
                await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)));
            }
        }
        Assert.True(jobs.Select(j => TableKeys.AllIndexPartitionOf(j.Id)).Distinct().Count() > TableKeys.AllIndexBuckets / 2, "ids spread over the buckets");

        var index = runner.Services.GetRequiredService<JobListIndex>();
        const int Limit = 25;
        var query = new JobListQuery
        {
            Scope = new JobListScope.All(), Types = new HashSet<string> { type }, Limit = Limit,
            CreatedFrom = start, CreatedTo = start.AddHours(1), KnownTypes = [type],
        };
        var seen = new List<string>();
        var pages = 0;
        while (true)
        {
            var page = await index.ListAsync(query, default);
            pages++;
            seen.AddRange(page.Jobs.Select(j => j.Id));
            // One range query per bucket, and a second page of a bucket only when its first ran out before the merge was
            // done; the rows read: the page and the one after it, plus what the buckets' small pages carried beyond.
            Assert.InRange(page.StorageRequests, 1, 2 * TableKeys.AllIndexBuckets);
            Assert.InRange(page.RowsRead, page.Jobs.Count, Limit + 1 + 3 * TableKeys.AllIndexBuckets);
            if (page.Next is null)
            {
                break;
            }
            Assert.Equal(Limit, page.Jobs.Count);
            query = query with { After = page.Next };
        }
        Assert.Equal(jobs.OrderByDescending(j => j.CreatedAt).Select(j => j.Id), seen);
        Assert.Equal(12, pages);

        // Ordered the other way, by status phases, with an offset: still the same rows.
        var ascending = await index.ListAsync(query with { After = null, Descending = false, Offset = 290, Limit = 20 }, default);
        Assert.Equal(jobs.Skip(290).Select(j => j.Id), ascending.Jobs.Select(j => j.Id));
    }
}
