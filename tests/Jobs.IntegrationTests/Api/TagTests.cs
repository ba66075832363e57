using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.IntegrationTests.Hostile;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// Tags (issue 28): set at create, returned on the job and its list rows, listed by <c>?tag=</c> (all must match) from
/// each tag's index partition with totals, taken by a bulk filter, removed with the job; bad tags refused naming the
/// element, nothing stored.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class TagTests(RunnerFixture runner)
{
    // Tag partitions are shared by owners: each test's tags are its own.
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    private string Tag(string name) => $"{name}-{_run}";

    private static async Task<JsonObject> GetAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url} → {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static List<string> Ids(JsonObject page) => [.. page["jobs"]!.AsArray().Select(j => (string)j!["id"]!)];

    /// <summary>Every id of a listing, following <c>next</c>; the first page's total.</summary>
    private static async Task<(List<string> Ids, long? Total)> WalkAsync(HttpClient client, string url)
    {
        var ids = new List<string>();
        long? total = null;
        var first = true;
        string? next = url;
        while (next is not null)
        {
            var page = await GetAsync(client, next);
            ids.AddRange(Ids(page));
            if (first)
            {
                total = (long?)page["pagination"]!["total"];
                first = false;
            }
            next = (string?)page["pagination"]!["next"] is { } token ? $"{url}&next={Uri.EscapeDataString(token)}" : null;
        }
        return (ids, total);
    }

    [Fact]
    public async Task ListedByTags_EveryTagMustMatch_PagedFromTheTagsIndex_WithTotals()
    {
        using var client = runner.Client("tags-" + _run);
        using var other = runner.Client("tags-other-" + _run);
        var (a, b, c) = (Tag("team:billing"), Tag("eu"), Tag("nightly"));
        string[][] tagSets = [[a, b], [a], [b], [a, b, c], [a, c], []];
        var ids = new List<string>();
        foreach (var tags in tagSets)
        {
            ids.Add((string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 }, tags }))["id"]!);
        }
        // Another owner's job with the same tags shares the partitions and is never listed for this owner.
        await RunnerFixture.CreateJobAsync(other, new { type = "demo.steps", input = new { steps = 1 }, tags = new[] { a, b } });

        var withA = ids.Where((_, i) => tagSets[i].Contains(a)).Order(StringComparer.Ordinal).ToList();
        var withAB = ids.Where((_, i) => tagSets[i].Contains(a) && tagSets[i].Contains(b)).Order(StringComparer.Ordinal).ToList();
        var withABC = ids.Where((_, i) => tagSets[i].Length == 3).ToList();

        var one = await WalkAsync(client, $"/api/jobs?tag={Uri.EscapeDataString(a)}&limit=1");
        Assert.Equal(withA, one.Ids.Order(StringComparer.Ordinal));
        Assert.Equal(withA.Count, one.Total);

        var two = await WalkAsync(client, $"/api/jobs?tag={Uri.EscapeDataString(a)}&tag={Uri.EscapeDataString(b)}&limit=1");
        Assert.Equal(withAB, two.Ids.Order(StringComparer.Ordinal));
        Assert.Equal(withAB.Count, two.Total);

        var three = await WalkAsync(client, $"/api/jobs?tag={Uri.EscapeDataString($"{c},{a}")}&tag={Uri.EscapeDataString(b)}");
        Assert.Equal(withABC, three.Ids);
        Assert.Equal(1, three.Total);

        // The tags come back on the row and on the job, in the order given.
        var row = (await GetAsync(client, $"/api/jobs?tag={Uri.EscapeDataString(c)}&tag={Uri.EscapeDataString(b)}"))["jobs"]!.AsArray().Single()!;
        Assert.Equal([a, b, c], row["tags"]!.AsArray().Select(t => (string)t!));
        var job = await GetAsync(client, $"/api/jobs/{withABC[0]}");
        Assert.Equal([a, b, c], job["tags"]!.AsArray().Select(t => (string)t!));
        Assert.Empty((await GetAsync(client, $"/api/jobs/{ids[^1]}"))["tags"]!.AsArray());
    }

    [Fact]
    public async Task AnAdminsListingByTag_ListsEveryOwnersJobs_AndAnOwnerFilterNarrowsIt()
    {
        var tag = Tag("shared");
        using var first = runner.Client("tags-1-" + _run);
        using var second = runner.Client("tags-2-" + _run);
        var one = (string)(await RunnerFixture.CreateJobAsync(first, new { type = "demo.steps", input = new { steps = 1 }, tags = new[] { tag } }))["id"]!;
        var two = (string)(await RunnerFixture.CreateJobAsync(second, new { type = "demo.steps", input = new { steps = 1 }, tags = new[] { tag } }))["id"]!;
        using var admin = runner.Client("tags-admin-" + _run, "admin");

        var all = await WalkAsync(admin, $"/api/jobs?tag={tag}");
        var narrowed = await WalkAsync(admin, $"/api/jobs?tag={tag}&owner=tags-2-{_run}");

        Assert.Equal(new[] { one, two }.Order(StringComparer.Ordinal), all.Ids.Order(StringComparer.Ordinal));
        Assert.Equal(2, all.Total);
        Assert.Equal([two], narrowed.Ids);
        Assert.Equal(1, narrowed.Total);
    }

    [Fact]
    public async Task ABulkDeleteByTag_DeletesTheTaggedJobs_AndTheirIndexRowsAndCounts()
    {
        var owner = "tags-del-" + _run;
        using var client = runner.Client(owner);
        var (gone, kept) = (Tag("cleanup"), Tag("keep"));
        var doomed = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            doomed.Add((string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 }, tags = new[] { gone, kept } }))["id"]!);
        }
        var stays = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 }, tags = new[] { kept } }))["id"]!;
        foreach (var id in doomed.Append(stays))
        {
            await RunnerFixture.WaitForEndAsync(client, id);
            await Conditions.WaitUntilAsync(async () =>
            {
                using var response = await client.GetAsync($"/api/jobs/{id}/instance");
                return (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())?["runtimeStatus"] is "Completed";
            }, $"job {id}'s orchestration to end");
        }

        using var bulk = await client.PostAsJsonAsync("/api/jobs/bulk", new { action = "delete", filter = new { tag = new[] { gone } } });
        var text = await bulk.Content.ReadAsStringAsync();
        Assert.True(bulk.StatusCode == HttpStatusCode.Accepted, $"{(int)bulk.StatusCode}: {text}");
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(client, (string)JsonNode.Parse(text)!["id"]!, TimeSpan.FromSeconds(120)))["status"]);

        foreach (var id in doomed)
        {
            using var response = await client.GetAsync($"/api/jobs/{id}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Empty(await RowsOfAsync(id));
        }
        var goneCounts = await runner.Services.GetRequiredService<JobCounters>().ReadAsync(new JobListScope.Tag(gone), default);
        Assert.Equal(0, goneCounts.Total(new HashSet<JobStatus>(), new HashSet<string>()));
        var keptListing = await WalkAsync(client, $"/api/jobs?tag={kept}");
        Assert.Equal([stays], keptListing.Ids);
        Assert.Equal(1, keptListing.Total);
    }

    /// <summary>Every row anywhere in the table that names the job (list rows, markers, live rows, its record).</summary>
    private async Task<List<string>> RowsOfAsync(string id)
    {
        var rows = new List<string>();
        await foreach (var row in runner.Storage.JobsTable.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"JobId eq {id}")))
        {
            rows.Add($"{row.PartitionKey}/{row.RowKey}");
        }
        await foreach (var row in runner.Storage.JobsTable.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {id}")))
        {
            rows.Add($"{row.PartitionKey}/{row.RowKey}");
        }
        return rows;
    }
}
