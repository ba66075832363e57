using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// <c>pagination.total</c> and <c>GET /api/jobs/stats</c> against what a full paging walk returns. An owner's and an
/// entity's totals agree with the walk at once; the admins' are the buckets' sum the aggregator wrote on its last run
/// (every reconciler run; this runner runs no timers), so the test runs it until they agree, then checks every filter.
/// </summary>
[Collection(CountingRunnerCollection.Name)]
public sealed class TotalsTests(CountingRunnerFixture runner)
{
    private static readonly string[] Filters =
    [
        "", "status=completed", "status=failed,cancelled", "status=draft", "type=demo.steps", "type=demo.fanout",
        "status=completed&type=demo.steps", "orderBy=status&status=completed,failed", "orderBy=type",
    ];

    private readonly string _alice = "tot-a-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _bob = "tot-b-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Totals_EqualWhatAFullPagingWalkReturns_ForEveryFilter_AfterTransitionsAndDeletions()
    {
        using var alice = runner.Client(_alice);
        using var bob = runner.Client(_bob);
        using var admin = runner.Client("tot-admin", "admin");
        var release = new { type = "release", id = "r-" + Guid.NewGuid().ToString("N")[..8] };
        var entityJobs = $"/api/entities/release/{release.id}/jobs?";

        var jobs = new List<(HttpClient Client, string Id)>();
        async Task<string> Start(HttpClient client, object body)
        {
            var id = (string)(await RunnerFixture.CreateJobAsync(client, body))["id"]!;
            jobs.Add((client, id));
            return id;
        }
        var aliceDone = await Start(alice, new { type = "demo.steps", input = new { steps = 2 } });
        await Start(alice, new { type = "demo.steps", input = new { steps = 1 }, entity = release });
        await Start(alice, new { type = "demo.steps", input = new { steps = 2, failAtStep = 2 } });
        await Start(alice, new { type = "demo.fanout", input = new { items = new[] { "x", "y", "z" } } });
        var bobWithEntity = await Start(bob, new { type = "demo.steps", input = new { steps = 1 }, entity = release });
        await Start(bob, new { type = "demo.fanout", input = new { items = new[] { "p" } } });
        var longJob = await Start(alice, new { type = "demo.steps", input = new { steps = 5, delayMs = 4_000 } });
        using (var draft = await alice.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true, input = new { steps = 1 } }))
        {
            Assert.Equal(HttpStatusCode.Created, draft.StatusCode);
        }

        // Mid-flight: one job running while others move on. Totals may trail a transition by the time between two
        // reads, so this checkpoint waits until the short ones have ended and only the long one is still running.
        await RunnerFixture.PollStatusAsync(alice, longJob, s => (string?)s["status"] == "running");
        foreach (var (client, id) in jobs.Where(j => j.Id != longJob))
        {
            await RunnerFixture.WaitForEndAsync(client, id);
        }
        await WaitForListsToSettleAsync(alice, expectedLive: 1);
        await WaitForAdminCountsAsync(admin);
        // A lighter check while the engine still runs the long job (the full matrix below, once everything has ended,
        // is thousands of requests: on a shared emulator such a burst can starve the durable backend's lease renewals).
        foreach (var filter in new[] { "", "status=running", "type=demo.steps" })
        {
            await AssertTotalMatchesWalkAsync(alice, "/api/jobs?" + filter);
            await AssertTotalMatchesWalkAsync(admin, "/api/jobs?" + filter);
        }
        Assert.Equal(1, (long)(await StatsAsync(alice))["byStatus"]!["running"]!);

        (await alice.PostAsync($"/api/jobs/{longJob}/cancel", null)).Dispose();
        await RunnerFixture.WaitForEndAsync(alice, longJob, TimeSpan.FromMinutes(2));
        await WaitForListsToSettleAsync(alice, expectedLive: 0);
        await WaitForAdminCountsAsync(admin);
        await AssertTotalsAsync(alice, bob, admin, entityJobs);
        var stats = await StatsAsync(alice);
        Assert.Equal(6, (long)stats["total"]!);
        Assert.Equal((3, 1, 1, 1), ((long)stats["byStatus"]!["completed"]!, (long)stats["byStatus"]!["failed"]!, (long)stats["byStatus"]!["cancelled"]!, (long)stats["byStatus"]!["draft"]!));
        Assert.Equal(5, (long)stats["byType"]!["demo.steps"]!["total"]!);
        Assert.Equal("immediate", (string?)stats["consistency"]);
        Assert.Equal("periodic", (string?)(await StatsAsync(admin))["consistency"]);

        // Deletions (what retention does) take the jobs out of every scope they were counted in.
        foreach (var id in new[] { aliceDone, bobWithEntity })
        {
            await runner.Store.DeleteAsync((await runner.Store.GetAsync(id, CancellationToken.None))!, CancellationToken.None);
        }
        await WaitForAdminCountsAsync(admin);
        await AssertTotalsAsync(alice, bob, admin, entityJobs);
        Assert.Equal(5, (long)(await StatsAsync(alice))["total"]!);
        Assert.Equal(1, (long)(await StatsAsync(admin, $"?owner={_bob}"))["total"]!);

        // A creation-time window is not something the counters know: no total rather than a wrong one.
        var windowed = JsonNode.Parse(await alice.GetStringAsync($"/api/jobs?createdFrom={DateTimeOffset.UtcNow.AddHours(-1):O}".Replace("+", "%2B", StringComparison.Ordinal)))!;
        Assert.Null(windowed["pagination"]!["total"]);
        Assert.Equal(5, windowed["jobs"]!.AsArray().Count);
    }

    [Fact]
    public async Task Recount_RebuildsACounterThatDrifted_FromTheListRows()
    {
        using var bob = runner.Client(_bob);
        var id = (string)(await RunnerFixture.CreateJobAsync(bob, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(bob, id);
        await WaitForListsToSettleAsync(bob, expectedLive: 0);
        Assert.Equal(1, (long)(await StatsAsync(bob))["total"]!);

        // Drift: a delta no transition wrote (as if a row had been restored by hand), then folded by the aggregator.
        var partition = TableKeys.OwnerIndexPartition(_bob);
        await runner.Storage.JobsTable.AddEntityAsync(new TableEntity(partition, JobCounters.DeltaRowKey(new string('f', 32), 1))
        {
            ["Type"] = "demo.steps", ["Owner"] = _bob, ["To"] = "completed",
        });
        Assert.Equal(2, (long)(await StatsAsync(bob))["total"]!);
        var counters = runner.Services.GetRequiredService<JobCounters>();
        Assert.True(await counters.FoldAsync(partition, CancellationToken.None) >= 1);
        Assert.True((await runner.Storage.JobsTable.GetEntityAsync<TableEntity>(partition, TableKeys.CounterRowKey)).Value.GetString("Counts")!.Contains("\"count\":2", StringComparison.Ordinal));

        Assert.Equal((true, true), await counters.RecountAsync(new JobListScope.Owner(_bob), CancellationToken.None));
        Assert.Equal(1, (long)(await StatsAsync(bob))["total"]!);
        Assert.Equal(1, await AssertTotalMatchesWalkAsync(bob, "/api/jobs?"));
        Assert.Equal((true, false), await counters.RecountAsync(new JobListScope.Owner(_bob), CancellationToken.None));
    }

    [Fact]
    public async Task Stats_AreTheCallersOwn_UnlessAdmin()
    {
        using var alice = runner.Client(_alice);
        using (var other = await alice.GetAsync($"/api/jobs/stats?owner={_bob}"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        }
        using (var unknown = await alice.GetAsync("/api/jobs/stats?status=running"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
            Assert.Contains("status", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var own = await StatsAsync(alice);
        Assert.Equal(("owner", _alice), ((string?)own["scope"], (string?)own["owner"]));
        Assert.Equal(9, own["byStatus"]!.AsObject().Count); // every status, zeros included
        Assert.Contains("demo.steps", own["byType"]!.AsObject().Select(p => p.Key));
        using var admin = runner.Client("tot-admin", "admin");
        var all = await StatsAsync(admin);
        Assert.Equal(("all", "periodic"), ((string?)all["scope"], (string?)all["consistency"]));
        Assert.Equal("immediate", (string?)own["consistency"]);
    }

    /// <summary>
    /// Runs the aggregator (what every reconciler run does) until the admins' counts agree with an admin's listing,
    /// type by status: a projection still landing after a run is counted by the next one.
    /// </summary>
    private async Task WaitForAdminCountsAsync(HttpClient admin)
    {
        var counters = runner.Services.GetRequiredService<JobCounters>();
        var (listed, counted) = ("", "");
        for (var i = 0; i < 100; i++)
        {
            await counters.FoldAsync(CancellationToken.None);
            var jobs = new List<JsonNode>();
            for (string? next = "/api/jobs?limit=100"; next is not null;)
            {
                var page = JsonNode.Parse(await admin.GetStringAsync(next))!;
                jobs.AddRange(page["jobs"]!.AsArray().Select(j => j!));
                next = (string?)page["pagination"]!["nextLink"];
            }
            listed = string.Join(",", jobs.GroupBy(j => $"{j["type"]}/{j["status"]}").Select(g => $"{g.Key}={g.Count()}").Order(StringComparer.Ordinal));
            counted = string.Join(",", (await StatsAsync(admin))["byType"]!.AsObject()
                .SelectMany(t => t.Value!["byStatus"]!.AsObject().Where(s => (long)s.Value! != 0).Select(s => $"{t.Key}/{s.Key}={(long)s.Value!}"))
                .Order(StringComparer.Ordinal));
            if (listed == counted)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The admins' counts ({counted}) never agreed with their listing ({listed}).");
    }

    private static async Task WaitForListsToSettleAsync(HttpClient owner, int expectedLive)
    {
        // A record ends before its rows are rewritten (they follow at once): wait until the rows list what the records say.
        for (var i = 0; i < 100; i++)
        {
            var live = JsonNode.Parse(await owner.GetStringAsync("/api/jobs?status=pending,running"))!["jobs"]!.AsArray();
            if (live.Count == expectedLive)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("The list rows never settled.");
    }

    /// <summary>Every filter, in every scope that can see these jobs: the owner's, an admin's (all, one owner), the entity's.</summary>
    private async Task AssertTotalsAsync(HttpClient alice, HttpClient bob, HttpClient admin, string entityJobs)
    {
        foreach (var filter in Filters)
        {
            await AssertTotalMatchesWalkAsync(alice, "/api/jobs?" + filter);
            await AssertTotalMatchesWalkAsync(bob, "/api/jobs?" + filter);
            await AssertTotalMatchesWalkAsync(admin, "/api/jobs?" + filter);
            await AssertTotalMatchesWalkAsync(admin, $"/api/jobs?owner={_bob}&" + filter);
            await AssertTotalMatchesWalkAsync(alice, entityJobs + filter);
            await AssertTotalMatchesWalkAsync(admin, entityJobs + filter);
        }
        foreach (var (client, query) in new[] { (alice, ""), (bob, ""), (admin, ""), (admin, $"?owner={_alice}") })
        {
            var stats = await StatsAsync(client, query);
            var list = "/api/jobs?" + (query.Length > 0 ? query[1..] + "&" : "");
            Assert.Equal((long)stats["total"]!, await AssertTotalMatchesWalkAsync(client, list));
            foreach (var (status, count) in stats["byStatus"]!.AsObject())
            {
                Assert.Equal((long)count!, await AssertTotalMatchesWalkAsync(client, list + "status=" + status));
            }
            foreach (var (type, byType) in stats["byType"]!.AsObject())
            {
                Assert.Equal((long)byType!["total"]!, await AssertTotalMatchesWalkAsync(client, list + "type=" + type));
            }
        }
    }

    /// <summary>Walks every page (2 a page) and checks each page's total and totalPages against the jobs the walk saw.</summary>
    private static async Task<int> AssertTotalMatchesWalkAsync(HttpClient client, string url)
    {
        var seen = new List<string>();
        var totals = new List<(long Total, long Pages)>();
        string? next = url + (url.EndsWith('?') ? "" : "&") + "limit=2";
        while (next is not null)
        {
            var page = JsonNode.Parse(await client.GetStringAsync(next))!;
            seen.AddRange(page["jobs"]!.AsArray().Select(j => (string)j!["id"]!));
            var pagination = page["pagination"]!;
            Assert.True(pagination["total"] is not null, $"{url}: no total");
            totals.Add(((long)pagination["total"]!, (long)pagination["totalPages"]!));
            next = (string?)pagination["nextLink"];
        }
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.All(totals, t => Assert.Equal((seen.Count, (seen.Count + 1) / 2), (t.Total, t.Pages)));
        return seen.Count;
    }

    private static async Task<JsonNode> StatsAsync(HttpClient client, string query = "")
    {
        using var response = await client.GetAsync("/api/jobs/stats" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }
}

public sealed class CountingRunnerFixture : RunnerFixture
{
    // A table of its own: totals are judged over every job in it.
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [];
}

[CollectionDefinition(Name)]
[TakesAbout(13)]
public sealed class CountingRunnerCollection : ICollectionFixture<CountingRunnerFixture>
{
    public const string Name = "counting-runner";
}
