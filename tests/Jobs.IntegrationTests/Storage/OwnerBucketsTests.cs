using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Storage;

/// <summary>
/// An owner's list rows spread over <see cref="StorageOptions.OwnerIndexBuckets"/> partitions (docs/scale.md: one
/// partition caps one owner at about 125 jobs/s on Azure). Against Azurite, on a runner with four buckets per owner: jobs
/// written through the API land in the buckets and are listed, counted and removed as with one partition; a page reads
/// at most two range queries per bucket; and start-up refuses a table written with another bucket count.
/// </summary>
[Collection(OwnerBucketsRunnerCollection.Name)]
public sealed class OwnerBucketsTests(OwnerBucketsRunnerFixture runner)
{
    private const int Buckets = 4;

    [Fact]
    public async Task JobsOfOneOwner_SpreadOverItsBuckets_AndAreListedCountedAndRemoved_AsWithOnePartition()
    {
        var owner = "ob-" + Guid.NewGuid().ToString("N")[..8];
        using var client = runner.Client(owner);
        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var input = i % 4 == 0 ? (object)new { steps = 1, failAtStep = 1 } : new { steps = 1 };
            ids.Add((string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input }))["id"]!);
        }
        foreach (var id in ids)
        {
            await RunnerFixture.WaitForEndAsync(client, id);
        }

        // Every job's rows are in its bucket, and nothing is in the one-partition name.
        var table = runner.Storage.JobsTable;
        var layout = runner.Services.GetRequiredService<IndexLayout>();
        Assert.Equal(Buckets, layout.OwnerBuckets);
        var used = new HashSet<string>();
        foreach (var id in ids)
        {
            var partition = TableKeys.OwnerIndexPartition(owner, TableKeys.BucketOf(id, Buckets));
            used.Add(partition);
            await Conditions.WaitUntilAsync(async () => await CountRowsAsync(table, partition, id) == 4, $"{id}: four rows in {partition}");
        }
        Assert.True(used.Count > 1, "the jobs spread over more than one bucket");
        Assert.Equal(0, await CountAsync(table, TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.OwnerIndexPartition(owner)}")));

        // The owner's listing merges the buckets: newest first, each job once, with the status its record has.
        await Conditions.WaitUntilAsync(async () => (await Listings.WalkAsync(client, "/api/jobs?limit=5")).Count(j => (string)j["status"]! is "completed" or "failed") == 12, "every job listed as ended");
        var listed = await Listings.WalkAsync(client, "/api/jobs?limit=5");
        Assert.Equal(ids.AsEnumerable().Reverse(), listed.Select(j => (string)j["id"]!));
        var failed = await Listings.WalkAsync(client, "/api/jobs?status=failed&limit=2");
        Assert.Equal(ids.Where((_, i) => i % 4 == 0).Reverse(), failed.Select(j => (string)j["id"]!));
        // Ordered by status: one phase per status, each reading every bucket; every job once, the statuses in runs.
        var byStatus = await Listings.WalkAsync(client, "/api/jobs?orderBy=status&limit=3");
        Assert.Equal(ids.Order(), byStatus.Select(j => (string)j["id"]!).Order());
        var statuses = byStatus.Select(j => (string)j["status"]!).ToList();
        Assert.Equal(statuses.Distinct().Count(), statuses.Where((status, i) => i == 0 || statuses[i - 1] != status).Count());
        var first = JsonNode.Parse(await client.GetStringAsync("/api/jobs?limit=5"))!;
        Assert.Equal(12, (long)first["pagination"]!["total"]!);
        var stats = JsonNode.Parse(await client.GetStringAsync("/api/jobs/stats"))!;
        Assert.Equal((12, 9, 3), ((long)stats["total"]!, (long)stats["byStatus"]!["completed"]!, (long)stats["byStatus"]!["failed"]!));

        // A deletion (what retention does) takes the job out of its bucket and out of the counts.
        await runner.Store.DeleteAsync((await runner.Store.GetAsync(ids[1], CancellationToken.None))!, CancellationToken.None);
        Assert.Equal(0, await CountRowsAsync(table, TableKeys.OwnerIndexPartition(owner, TableKeys.BucketOf(ids[1], Buckets)), ids[1]));
        Assert.DoesNotContain(ids[1], (await Listings.WalkAsync(client, "/api/jobs?limit=5")).Select(j => (string)j["id"]!));
        Assert.Equal(11, (long)JsonNode.Parse(await client.GetStringAsync("/api/jobs/stats"))!["total"]!);

        // An admin's view of the owner reads the same buckets.
        using var admin = runner.Client("ob-admin", "admin");
        Assert.Equal(11, (await Listings.WalkAsync(admin, $"/api/jobs?owner={owner}&limit=4")).Count);
    }

    [Fact]
    public async Task OwnerPages_MergeTheBuckets_InOrder_ExactlyOnce_AtAboutOneQueryPerBucket() =>
        await BucketedListTests.AssertBucketedPagingAsync(runner.Storage.JobsTable, runner.Services.GetRequiredService<JobListIndex>(),
            runner.Services.GetRequiredService<IndexLayout>(), new JobListScope.Owner("ob-paging"), "ob-paging", Buckets);

    [Fact]
    public async Task StartUp_RefusesATable_WrittenWithAnotherBucketCount()
    {
        // This runner's start recorded four buckets in its table; a start with one must not run on it.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new StorageInitializer(runner.Storage, new IndexLayout(1)).StartingAsync(CancellationToken.None));
        Assert.Contains("Jobs:Storage:OwnerIndexBuckets is 1", refused.Message, StringComparison.Ordinal);
        Assert.Contains("written with 4", refused.Message, StringComparison.Ordinal);
        await new StorageInitializer(runner.Storage, new IndexLayout(Buckets)).StartingAsync(CancellationToken.None); // the same count starts
    }

    [Fact]
    public async Task ATableWithoutALayoutRecord_IsJudgedByItsOwnerRows()
    {
        var service = new TableServiceClient(TestStorage.ConnectionString);
        var tables = Enumerable.Range(0, 3).Select(_ => service.GetTableClient("ob" + Guid.NewGuid().ToString("N")[..12])).ToList();
        try
        {
            foreach (var table in tables)
            {
                await table.CreateAsync();
            }
            // Owner rows in one-partition names and no record: a table from before the record, written with one bucket.
            var legacy = tables[0];
            await legacy.AddEntityAsync(new TableEntity(TableKeys.OwnerIndexPartition("alice"), "cd-0"));
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => new IndexLayout(Buckets).EnsureTableMatchesAsync(legacy, CancellationToken.None));
            Assert.Contains("were written with 1", refused.Message, StringComparison.Ordinal);
            await new IndexLayout(1).EnsureTableMatchesAsync(legacy, CancellationToken.None);

            // Owner rows in bucket names and no record: the record was lost, and no count is guessed.
            var lost = tables[1];
            await lost.AddEntityAsync(new TableEntity(TableKeys.OwnerIndexPartition("alice", 2), "cd-0"));
            foreach (var buckets in new[] { 1, Buckets })
            {
                var unknown = await Assert.ThrowsAsync<InvalidOperationException>(() => new IndexLayout(buckets).EnsureTableMatchesAsync(lost, CancellationToken.None));
                Assert.Contains("no record of their count", unknown.Message, StringComparison.Ordinal);
            }

            // An empty table takes the count it is first started with, and keeps it.
            var empty = tables[2];
            await new IndexLayout(Buckets).EnsureTableMatchesAsync(empty, CancellationToken.None);
            await new IndexLayout(Buckets).EnsureTableMatchesAsync(empty, CancellationToken.None);
            var changed = await Assert.ThrowsAsync<InvalidOperationException>(() => new IndexLayout(2).EnsureTableMatchesAsync(empty, CancellationToken.None));
            Assert.Contains("OwnerIndexBuckets is 2", changed.Message, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var table in tables)
            {
                await table.DeleteAsync();
            }
        }
    }

    /// <summary>The job's list rows in a partition (its marker row there, the projector's, is not one).</summary>
    private static Task<int> CountRowsAsync(TableClient table, string partition, string id) =>
        CountAsync(table, TableClient.CreateQueryFilter($"PartitionKey eq {partition} and JobId eq {id} and (RowKey lt {ProjectionPlan.MarkerPrefix} or RowKey ge {"mk."})"));

    private static async Task<int> CountAsync(TableClient table, string filter)
    {
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(filter, select: ["RowKey"]))
        {
            count++;
        }
        return count;
    }


}

public sealed class OwnerBucketsRunnerFixture : RunnerFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [new("Jobs:Storage:OwnerIndexBuckets", "4")];
}

[CollectionDefinition(Name)]
public sealed class OwnerBucketsRunnerCollection : ICollectionFixture<OwnerBucketsRunnerFixture>
{
    public const string Name = "owner-buckets-runner";
}
