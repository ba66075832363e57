using System.Net;
using System.Text.Json.Nodes;
using Jobs.Functions.Metrics;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// <c>GET /api/metrics</c> against a walk of the jobs: after a run with completions, failures and cancels (before and
/// after the start), the roll-ups the aggregator folded equal the records' own times counted per type and minute (and
/// hour), and their percentiles equal those of the walk's durations. This runner runs no timers: the test runs the
/// aggregator (what every reconciler run does). Scoped to one owner, so other tests' jobs in the table do not count.
/// </summary>
[Collection(CountingRunnerCollection.Name)]
public sealed class MetricsTests(CountingRunnerFixture runner)
{
    private readonly string _owner = "met-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Metrics_EqualAWalkOfTheJobs_PerTypeAndMinuteAndHour_AfterARunWithFailuresAndCancels()
    {
        using var client = runner.Client(_owner);
        var ids = new List<string>();
        async Task<string> Create(object body)
        {
            var id = (string)(await RunnerFixture.CreateJobAsync(client, body))["id"]!;
            ids.Add(id);
            return id;
        }
        await Create(new { type = "demo.steps", input = new { steps = 1 } });
        await Create(new { type = "demo.steps", input = new { steps = 2, delayMs = 200 } });
        await Create(new { type = "demo.steps", input = new { steps = 2, failAtStep = 2 } });
        await Create(new { type = "demo.steps", input = new { steps = 1, failAtStep = 1 } });
        await Create(new { type = "demo.fanout", input = new { items = new[] { "a", "b" } } });
        var running = await Create(new { type = "demo.steps", input = new { steps = 5, delayMs = 3_000 } });
        var waiting = await Create(new { type = "demo.steps", input = new { steps = 1 }, notBefore = DateTimeOffset.UtcNow.AddHours(1) });
        using (var draft = await client.PostAsync("/api/jobs", JsonContent(new { type = "demo.fanout", draft = true, input = new { items = new[] { "x" } } })))
        {
            Assert.Equal(HttpStatusCode.Created, draft.StatusCode);
            ids.Add((string)JsonNode.Parse(await draft.Content.ReadAsStringAsync())!["id"]!);
        }

        await RunnerFixture.PollStatusAsync(client, running, s => (string?)s["status"] == "running");
        (await client.PostAsync($"/api/jobs/{running}/cancel", null)).Dispose();
        (await client.PostAsync($"/api/jobs/{waiting}/cancel", null)).Dispose();
        foreach (var id in ids.Where(i => i != ids[^1]))
        {
            await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromMinutes(2));
        }
        var jobs = new List<JsonNode>();
        foreach (var id in ids)
        {
            jobs.Add(JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!);
        }
        Assert.Equal(["cancelled", "cancelled", "completed", "completed", "completed", "draft", "failed", "failed"],
            jobs.Select(j => (string)j["status"]!).Order(StringComparer.Ordinal));

        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-2).ToString("O"));
        var expected = MetricsCheck.Expected(jobs, MetricInterval.Minute);
        JsonNode metrics = null!;
        var counters = runner.Services.GetRequiredService<JobCounters>();
        await Conditions.WaitUntilAsync(async () =>
        {
            await counters.FoldAsync(CancellationToken.None); // a reconciler run: it folds the owner's partition, named dirty
            metrics = JsonNode.Parse(await client.GetStringAsync($"/api/metrics?interval=minute&from={from}"))!;
            return MetricsCheck.Actual(metrics) == expected;
        }, $"the owner's metrics equal the walk:\n{expected}");
        Assert.Equal(("owner", _owner, "periodic"), ((string?)metrics["scope"], (string?)metrics["owner"], (string?)metrics["consistency"]));
        Assert.Equal(MetricsCheck.ExpectedPercentiles(jobs), MetricsCheck.ActualPercentiles(metrics));
        var steps = metrics["series"]!.AsArray().Single(s => (string?)s!["type"] == "demo.steps")!["totals"]!;
        Assert.Equal((6L, 5L, 2L, 2L, 2L), ((long)steps["created"]!, (long)steps["started"]!, (long)steps["completed"]!, (long)steps["failed"]!, (long)steps["cancelled"]!));

        // The hour rows hold the same facts, and folding again (nothing left to fold) changes nothing.
        await counters.FoldAsync(CancellationToken.None);
        var hours = JsonNode.Parse(await client.GetStringAsync($"/api/metrics?interval=hour&from={from}"))!;
        Assert.Equal(MetricsCheck.Expected(jobs, MetricInterval.Hour), MetricsCheck.Actual(hours));
        Assert.Equal(expected, MetricsCheck.Actual(JsonNode.Parse(await client.GetStringAsync($"/api/metrics?interval=minute&from={from}"))!));
        // A window costs one range read per partition of the scope (the owner's one), however many jobs it counts; the
        // admins' one per all-jobs bucket.
        var requests = runner.Services.GetRequiredService<StorageRequestCounter>();
        requests.Reset();
        (await client.GetStringAsync($"/api/metrics?interval=hour&from={from}")).ToString();
        Assert.Equal(1, requests.Snapshot().Values.Sum());
        using var admin = runner.Client("met-admin", "admin");
        requests.Reset();
        (await admin.GetStringAsync($"/api/metrics?interval=minute&from={from}")).ToString();
        Assert.Equal(runner.Services.GetRequiredService<IndexLayout>().AllBuckets, requests.Snapshot().Values.Sum());
        // A type filter keeps that type's series only.
        var fanout = JsonNode.Parse(await client.GetStringAsync($"/api/metrics?interval=hour&from={from}&type=demo.fanout"))!;
        Assert.Equal(["demo.fanout"], fanout["series"]!.AsArray().Select(s => (string)s!["type"]!));
    }

    [Fact]
    public async Task RollUpsOlderThanTheKeptDays_ArePrunedWhenAFoldAddsAnHourRow()
    {
        var partition = TableKeys.OwnerIndexPartition(_owner);
        var table = runner.Storage.MetricsTable;
        var old = DateTimeOffset.UtcNow.AddDays(-31);
        var kept = DateTimeOffset.UtcNow.AddDays(-29);
        foreach (var at in new[] { old, kept })
        {
            foreach (var interval in Enum.GetValues<MetricInterval>())
            {
                var row = MetricRow.Empty(MetricSlots.RowKey(interval, at));
                row.Apply("demo.steps", new MetricFact(MetricKind.Created, at, null));
                await table.SubmitTransactionAsync([row.ToAction(partition)]);
            }
        }
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);

        var counters = runner.Services.GetRequiredService<JobCounters>();
        var keys = new List<string>();
        await Conditions.WaitUntilAsync(async () =>
        {
            await counters.FoldAsync(CancellationToken.None);
            keys.Clear();
            await foreach (var row in table.QueryAsync<Azure.Data.Tables.TableEntity>(
                Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {MetricSlots.RowKeyPrefix} and RowKey lt {"met."}"), select: ["RowKey"]))
            {
                keys.Add(row.RowKey);
            }
            // The job's hour (whichever it is, near an hour's turn) is a row the fold added.
            return keys.Any(k => k.StartsWith(MetricSlots.FamilyPrefix(MetricInterval.Hour), StringComparison.Ordinal)
                && k != MetricSlots.RowKey(MetricInterval.Hour, old) && k != MetricSlots.RowKey(MetricInterval.Hour, kept));
        }, "the fold adds the job's hour row");
        // 30 days by default (Jobs:Metrics:KeepDays): the 31-day-old rows went with that fold, the 29-day-old stay.
        Assert.DoesNotContain(MetricSlots.RowKey(MetricInterval.Minute, old), keys);
        Assert.DoesNotContain(MetricSlots.RowKey(MetricInterval.Hour, old), keys);
        Assert.Contains(MetricSlots.RowKey(MetricInterval.Minute, kept), keys);
        Assert.Contains(MetricSlots.RowKey(MetricInterval.Hour, kept), keys);
    }

    public static TheoryData<string, string> BadQueries => new()
    {
        { "interval=day", "interval" },
        { "interval=minute&interval=hour", "interval" },
        { "from=yesterday", "from" },
        { "from=2026-12-07T10:00:00Z&to=2026-12-07T09:00:00Z", "from" },
        { "interval=minute&from=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-2).ToString("O")), "from" },
        { "interval=hour&from=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-31).ToString("O")), "from" },
        { "to=0001-01-01T00:00:00Z", "to" },
        { "to=9999-12-31T23:59:59Z", "to" },
        { "type=no.such.type", "type" },
        { "type=a,b,c,d,e,f,g,h,i,j,k", "type" },
        { "status=failed", "status" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task BadQuery_IsAProblemNamingTheParameter(string query, string field)
    {
        using var client = runner.Client(_owner);
        using var response = await client.GetAsync("/api/metrics?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains(problem["errors"]!.AsArray(), e => (string?)e!["field"] == field);
    }

    [Fact]
    public async Task AnotherOwnersMetrics_AreForbidden_ButAnAdminMaySeeThem()
    {
        using var client = runner.Client(_owner);
        using var response = await client.GetAsync("/api/metrics?owner=someone-else");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var admin = runner.Client("met-admin", "admin");
        var all = JsonNode.Parse(await admin.GetStringAsync("/api/metrics"))!;
        Assert.Equal(("all", "minute"), ((string?)all["scope"], (string?)all["interval"]));
        var theirs = JsonNode.Parse(await admin.GetStringAsync($"/api/metrics?owner={_owner}&interval=hour"))!;
        Assert.Equal(("owner", _owner), ((string?)theirs["scope"], (string?)theirs["owner"]));
    }

    private static StringContent JsonContent(object body) =>
        new(System.Text.Json.JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
