using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Metrics;
using Jobs.Functions.Storage;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// The roll-ups under faults: every transaction that carries a count delta — the projections in each list partition,
/// and the aggregator's folds that turn the deltas into counters and pending roll-ups — every roll-up transaction of the
/// metrics table, and every write that clears a counter's pending roll-ups, fails at random, before or after it was applied
/// (answer lost). Once the faults stop and the reconciler (every second here) has settled and folded, the owner's metrics
/// equal a walk of the jobs per type and minute: each fact counted once, none lost.
/// </summary>
[Collection(FaultRunnerCollection.Name)]
public sealed class MetricsFaultTests(FaultRunnerFixture runner) : IDisposable
{
    private readonly string _owner = "metfault-" + Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => runner.Faults.Clear();

    [Fact]
    public async Task Metrics_EqualAWalkOfTheJobs_AfterFaultsOnEveryProjectionAndFold()
    {
        var injectedBefore = runner.Faults.Injected;
        var rollUps = runner.Faults.Watch(r => r.IsBatch && r.BodyHas("/" + runner.MetricsTable));
        runner.Faults.FailRandomly(r => (r.IsBatch && (r.BodyHas("cnt-d-") || r.BodyHas("/" + runner.MetricsTable)))
            || (r.Method == "PUT" && r.Path.Contains($"/{runner.JobsTable}(", StringComparison.Ordinal) && r.Path.Contains($"RowKey='{TableKeys.CounterRowKey}'", StringComparison.Ordinal)),
            0.3, seed: 20261207);
        using var client = runner.Client(_owner);
        var bodies = new object[]
        {
            new { type = "demo.steps", input = new { steps = 2, delayMs = 100 } },
            new { type = "demo.steps", input = new { steps = 1 } },
            new { type = "demo.steps", input = new { steps = 2, failAtStep = 2 } },
            new { type = "demo.fanout", input = new { items = new[] { "a", "b", "c" } } },
            new { type = "demo.fanout", input = new { items = new[] { "a" } } },
            new { type = "demo.steps", input = new { steps = 5, delayMs = 2_000 } },
        };
        var ids = new List<string>();
        for (var i = 0; i < bodies.Length; i++)
        {
            ids.Add(await CreateAsync(client, bodies[i], $"metfault-{i}"));
        }
        await RunnerFixture.PollStatusAsync(client, ids[^1], s => (string?)s["status"] == "running", TimeSpan.FromMinutes(2));
        for (var attempt = 0; attempt < 20; attempt++)
        {
            using var cancel = await client.PostAsync($"/api/jobs/{ids[^1]}/cancel", null);
            if (cancel.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                break;
            }
        }
        foreach (var id in ids)
        {
            await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromMinutes(2));
        }
        // The aggregator folds in the background (every second here), so the jobs can end before any roll-up has gone to
        // the metrics table: keep the faults on until some have, so that the faults reach them.
        await Conditions.WaitUntilAsync(() => Task.FromResult(rollUps.Count > 0), "a roll-up transaction reached the metrics table while the faults were on", TimeSpan.FromMinutes(1));
        runner.Faults.Clear();
        Assert.True(runner.Faults.Injected > injectedBefore + 3, $"only {runner.Faults.Injected - injectedBefore} faults injected");

        var jobs = new List<JsonNode>();
        foreach (var id in ids)
        {
            jobs.Add(JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!);
        }
        Assert.Equal(["cancelled", "completed", "completed", "completed", "completed", "failed"], jobs.Select(j => (string)j["status"]!).Order(StringComparer.Ordinal));
        var expected = MetricsCheck.Expected(jobs, MetricInterval.Minute);
        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"));
        var actual = "";
        // The reconciler settles what the faults left and folds the deltas: until then the roll-ups trail the walk.
        await Conditions.WaitUntilAsync(async () =>
        {
            actual = MetricsCheck.Actual(JsonNode.Parse(await client.GetStringAsync($"/api/metrics?interval=minute&from={from}"))!);
            return actual == expected;
        }, $"metrics equal the walk after faults:\n{expected}\nbut were\n{actual}", TimeSpan.FromMinutes(2));
        var hours = JsonNode.Parse(await client.GetStringAsync($"/api/metrics?interval=hour&from={from}"))!;
        Assert.Equal(MetricsCheck.Expected(jobs, MetricInterval.Hour), MetricsCheck.Actual(hours));
        Assert.Equal(MetricsCheck.ExpectedPercentiles(jobs), MetricsCheck.ActualPercentiles(hours));
    }

    private static async Task<string> CreateAsync(HttpClient client, object body, string key)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = JsonContent.Create(body, options: JobsJson) };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await client.SendAsync(request);
            if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
            {
                return (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!;
            }
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 50, $"create: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static readonly System.Text.Json.JsonSerializerOptions JobsJson = new(System.Text.Json.JsonSerializerDefaults.Web);
}
