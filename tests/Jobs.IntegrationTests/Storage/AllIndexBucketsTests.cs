using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Storage;

/// <summary>
/// The all-jobs scope spread over <see cref="StorageOptions.AllIndexBuckets"/> partitions (docs/scale.md). Against
/// Azurite: at the default count an admin's first page with its total costs at most 6 storage requests; a table keeps the
/// count it was first written with (a table from before the setting, 16); and on a runner with three buckets (its
/// reconciler every second) jobs are listed, counted and removed as with the default.
/// </summary>
[Collection(AllBucketsRunnerCollection.Name)]
public sealed class AllIndexBucketsTests(AllBucketsRunnerFixture runner)
{
    private const int Buckets = 3;

    [Fact]
    public async Task AdminsFirstPage_AtTheDefaultBucketCount_CostsAtMostSixStorageRequests_WithItsTotal()
    {
        var app = new CustomRunner();
        await app.InitializeAsync();
        try
        {
            var layout = app.Services.GetRequiredService<IndexLayout>();
            Assert.Equal(StorageOptions.DefaultAllIndexBuckets, layout.AllBuckets);
            // Seeded as the projector writes them (the four list rows and a count delta per job, in the job's bucket), not
            // through the API. How many jobs changes only Azurite's speed (it scans its table for every query), not the
            // request count: what that count depends on is that every bucket holds more than a page, as each does at
            // 100,000 jobs, so each answers its one range read with a full page; the total is one point read at any size.
            var table = app.Storage.JobsTable;
            var start = new DateTimeOffset(2091, 1, 1, 0, 0, 0, TimeSpan.Zero);
            var jobs = Enumerable.Range(0, 600).Select(i => new Job
            {
                Id = Guid.NewGuid().ToString("N"), Type = "demo.steps", Status = i % 10 == 0 ? JobStatus.Failed : JobStatus.Completed,
                Owner = "cost-" + (i % 7), CreatedAt = start.AddSeconds(i), UpdatedAt = start.AddSeconds(i + 1),
            }).ToList();
            foreach (var bucket in jobs.GroupBy(j => layout.AllPartitionOf(j.Id)))
            {
                Assert.True(bucket.Count() > 51, $"{bucket.Key} holds {bucket.Count()} jobs, not more than a page");
                var rows = bucket.SelectMany(j => JobIndexEntity.Rows(j, bucket.Key, j.UpdatedAt).Cast<ITableEntity>()
                    .Append(JobCounters.Delta(bucket.Key, JobCounters.DeltaRowKey(j.Id, 1), j.Type, j.Owner, null, j.Status)));
                foreach (var chunk in rows.Chunk(100))
                {
                    await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)));
                }
            }
            Assert.Equal(layout.AllBuckets, jobs.Select(j => layout.AllPartitionOf(j.Id)).Distinct().Count());
            await app.Services.GetRequiredService<JobCounters>().FoldAsync(CancellationToken.None); // a reconciler run

            using var admin = app.Client("cost-admin", "admin");
            var requests = app.Services.GetRequiredService<StorageRequestCounter>();
            requests.Reset();
            var page = JsonNode.Parse(await admin.GetStringAsync("/api/jobs"))!;
            var made = requests.Snapshot();

            Assert.True(made.Values.Sum() <= 6, $"the first page cost {string.Join(", ", made.Select(r => $"{r.Key}={r.Value}"))}");
            Assert.Equal(jobs.OrderByDescending(j => j.CreatedAt).Take(50).Select(j => j.Id), page["jobs"]!.AsArray().Select(j => (string)j!["id"]!));
            Assert.Equal((600, 12), ((long)page["pagination"]!["total"]!, (long)page["pagination"]!["totalPages"]!));
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task StartUp_RefusesAChangedAllIndexBuckets_AndTakesATableFromBeforeTheSettingAs16()
    {
        // This runner's start recorded three buckets in its table; a start with the default must not run on it.
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new StorageInitializer(runner.Storage, new IndexLayout(1)).StartingAsync(CancellationToken.None));
        Assert.Contains($"Jobs:Storage:AllIndexBuckets is {StorageOptions.DefaultAllIndexBuckets}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("written with 3: set it to 3", refused.Message, StringComparison.Ordinal);
        await new StorageInitializer(runner.Storage, new IndexLayout(1, Buckets)).StartingAsync(CancellationToken.None);

        var service = new TableServiceClient(TestStorage.ConnectionString);
        var tables = Enumerable.Range(0, 2).Select(_ => service.GetTableClient("ab" + Guid.NewGuid().ToString("N")[..12])).ToList();
        try
        {
            // A layout record from before the setting (owner count only): its all-jobs rows were written with 16.
            var recorded = tables[0];
            await recorded.CreateAsync();
            await recorded.AddEntityAsync(new TableEntity(IndexLayout.LayoutPartition, IndexLayout.LayoutRowKey) { [IndexLayout.OwnerBucketsColumn] = 1 });
            var legacy = await Assert.ThrowsAsync<InvalidOperationException>(() => new IndexLayout(1).EnsureTableMatchesAsync(recorded, CancellationToken.None));
            Assert.Contains("written with 16 (its layout record predates the setting", legacy.Message, StringComparison.Ordinal);
            Assert.Contains("set it to 16", legacy.Message, StringComparison.Ordinal);
            await new IndexLayout(1, IndexLayout.LegacyAllBuckets).EnsureTableMatchesAsync(recorded, CancellationToken.None);

            // All-jobs rows and no record at all: from before either record, so 16 too, and recorded as such.
            var unrecorded = tables[1];
            await unrecorded.CreateAsync();
            await unrecorded.AddEntityAsync(new TableEntity(TableKeys.AllIndexPartition(10), "cd-0"));
            var old = await Assert.ThrowsAsync<InvalidOperationException>(() => new IndexLayout(1).EnsureTableMatchesAsync(unrecorded, CancellationToken.None));
            Assert.Contains("written with 16: set it to 16", old.Message, StringComparison.Ordinal);
            var row = (await unrecorded.GetEntityAsync<TableEntity>(IndexLayout.LayoutPartition, IndexLayout.LayoutRowKey)).Value;
            Assert.Equal((1, 16), (row.GetInt32(IndexLayout.OwnerBucketsColumn), row.GetInt32(IndexLayout.AllBucketsColumn)));
            await new IndexLayout(1, IndexLayout.LegacyAllBuckets).EnsureTableMatchesAsync(unrecorded, CancellationToken.None);
        }
        finally
        {
            foreach (var table in tables)
            {
                await table.DeleteAsync();
            }
        }
    }

    [Fact]
    public async Task JobsInThreeBuckets_AreListedCountedAndRemoved_AsWithTheDefault()
    {
        var owner = "ab-" + Guid.NewGuid().ToString("N")[..8];
        using var client = runner.Client(owner);
        using var other = runner.Client(owner + "-b");
        using var admin = runner.Client("ab-admin", "admin");
        var ids = new List<string>();
        for (var i = 0; i < 9; i++)
        {
            var input = i % 3 == 0 ? (object)new { steps = 1, failAtStep = 1 } : new { steps = 1 };
            ids.Add((string)(await RunnerFixture.CreateJobAsync(i % 2 == 0 ? client : other, new { type = "demo.steps", input }))["id"]!);
        }
        foreach (var id in ids)
        {
            await RunnerFixture.WaitForEndAsync(admin, id);
        }

        // Every job's rows are in its bucket of three; nothing is in the partitions of a larger count.
        var table = runner.Storage.JobsTable;
        var layout = runner.Services.GetRequiredService<IndexLayout>();
        Assert.Equal(Buckets, layout.AllBuckets);
        Assert.True(ids.Select(layout.AllPartitionOf).Distinct().Count() > 1, "the jobs spread over more than one bucket");
        foreach (var id in ids)
        {
            await Conditions.WaitUntilAsync(async () => (await RowsAsync(table, TableClient.CreateQueryFilter($"PartitionKey eq {layout.AllPartitionOf(id)} and JobId eq {id}")))
                .Count(r => r.RowKey[..3] is "cd-" or "ca-" or "ud-" or "ua-") == 4, $"{id}: four rows in {layout.AllPartitionOf(id)}");
        }
        Assert.Empty(await RowsAsync(table, TableClient.CreateQueryFilter(
            $"PartitionKey ge {TableKeys.AllIndexPartition(Buckets)} and PartitionKey lt {TableKeys.AllIndexPrefixEnd}")));
        // The live-job index is read from the same three buckets: every job left it when it ended.
        await Conditions.WaitUntilAsync(async () => (await runner.Services.GetRequiredService<LiveJobIndex>().ReadAsync(null, 100, CancellationToken.None)).Count == 0,
            "the live-job index emptied");

        // An admin's listing merges the three buckets: newest first, each job once, filtered as asked.
        Assert.Equal(ids.AsEnumerable().Reverse(), (await Listings.WalkAsync(admin, "/api/jobs?limit=4")).Select(j => (string)j["id"]!));
        Assert.Equal(ids.Where((_, i) => i % 3 == 0).Reverse(), (await Listings.WalkAsync(admin, "/api/jobs?status=failed&limit=2")).Select(j => (string)j["id"]!));
        // Its totals are the reconciler's sum (every second here): waited for, then exact.
        await Conditions.WaitUntilAsync(async () => await AdminCountsAsync(admin) == (9, 6, 3), "the admins' counts reached 9 (6 completed, 3 failed)");
        var first = JsonNode.Parse(await admin.GetStringAsync("/api/jobs?status=failed&limit=2"))!;
        Assert.Equal(3, (long)first["pagination"]!["total"]!);
        Assert.Equal("periodic", (string?)JsonNode.Parse(await admin.GetStringAsync("/api/jobs/stats"))!["consistency"]);

        // A deletion (what retention does) takes the job out of its bucket, the listing, and then the counts.
        await runner.Store.DeleteAsync((await runner.Store.GetAsync(ids[0], CancellationToken.None))!, CancellationToken.None);
        Assert.Empty(await RowsAsync(table, TableClient.CreateQueryFilter($"PartitionKey eq {layout.AllPartitionOf(ids[0])} and JobId eq {ids[0]}")));
        Assert.DoesNotContain(ids[0], (await Listings.WalkAsync(admin, "/api/jobs?limit=4")).Select(j => (string)j["id"]!));
        Assert.Equal(4, (long)JsonNode.Parse(await client.GetStringAsync("/api/jobs/stats"))!["total"]!); // the owner's: at once
        await Conditions.WaitUntilAsync(async () => await AdminCountsAsync(admin) == (8, 6, 2), "the admins' counts reached 8 (6 completed, 2 failed)");
    }

    private static async Task<(long Total, long Completed, long Failed)> AdminCountsAsync(HttpClient admin)
    {
        var stats = JsonNode.Parse(await admin.GetStringAsync("/api/jobs/stats"))!;
        return ((long)stats["total"]!, (long)stats["byStatus"]!["completed"]!, (long)stats["byStatus"]!["failed"]!);
    }

    private static async Task<List<TableEntity>> RowsAsync(TableClient table, string filter)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter))
        {
            rows.Add(row);
        }
        return rows;
    }


}

/// <summary>A runner whose all-jobs rows are spread over three buckets, with the reconciler (the counts' aggregator) every second.</summary>
public sealed class AllBucketsRunnerFixture : RunnerFixture
{
    protected override bool TimerTriggers => true;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Jobs:Storage:AllIndexBuckets", "3"),
        new("Jobs:Runner:Schedules:SweepTimedOutJobs", "*/1 * * * * *"),
    ];
}

[CollectionDefinition(Name)]
public sealed class AllBucketsRunnerCollection : ICollectionFixture<AllBucketsRunnerFixture>
{
    public const string Name = "all-buckets-runner";
}
