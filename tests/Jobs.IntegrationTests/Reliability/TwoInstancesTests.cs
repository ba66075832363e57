using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// Two instances of the app on one storage account and task hub — the way Functions scales out — with one of them
/// killed (<c>kill -9</c>) while jobs run on both. Every job must end once, completed as its handler decided, and
/// everything derived must agree with the records within one reconciler period: each listed once with its status, the
/// totals, the stats and the metrics exact. The instance that dies holds step messages, orchestration partitions and projections
/// half done; the survivor takes them over once their leases and visibility timeouts run out.
/// </summary>
[TakesAbout(40)]
public sealed class TwoInstancesTests : IDisposable
{
    private const int Jobs = 24;

    // The killed instance's messages come back after 20 s, the reconciler runs every 2 s (TwoInstanceSettings).
    private readonly RunnerProcess _first = TwoInstanceSettings.First();

    private readonly RunnerProcess _second;

    public TwoInstancesTests() => _second = new RunnerProcess(_first);

    [Fact]
    public async Task OneOfTwoInstancesKilledMidRun_EveryJobEndsOnce_AndListsTotalsAndStatsAgreeWithTheRecords()
    {
        await Task.WhenAll(_first.StartAsync(), _second.StartAsync());
        var ids = new List<string>();
        for (var i = 0; i < Jobs; i++)
        {
            // Submitted to both, so both instances create, run and project jobs.
            var client = i % 2 == 0 ? _first.Client : _second.Client;
            var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 3, delayMs = 700 }, correlationId = $"two-{i}" });
            ids.Add((string)created["id"]!);
        }
        // Kill the first instance while work is in flight: some jobs have run a step, none has ended on every step yet.
        await RunnerFixture.PollStatusAsync(_second.Client, ids[^1], s => (string?)s["status"] == "running", TimeSpan.FromSeconds(60));
        await _first.KillAsync();

        foreach (var id in ids)
        {
            var end = await RunnerFixture.WaitForEndAsync(_second.Client, id, TimeSpan.FromSeconds(180));
            Assert.True((string?)end["status"] == "completed", $"{id} ended {end.ToJsonString()}");
        }
        foreach (var id in ids)
        {
            var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(_second.Client, id);
            Assert.Single(lines, l => l.StartsWith("Job completed", StringComparison.Ordinal));
        }

        var records = new List<JsonNode>();
        foreach (var id in ids)
        {
            records.Add(JsonNode.Parse(await _second.Client.GetStringAsync($"/api/jobs/{id}"))!);
        }

        // Everything derived agrees with the records within one reconciler period (2 s here; waited for up to 60 s).
        var problem = "";
        for (var attempt = 0; attempt < 120; attempt++)
        {
            problem = await DisagreementAsync(ids, records);
            if (problem.Length == 0)
            {
                break;
            }
            await Task.Delay(500);
        }
        Assert.True(problem.Length == 0, problem);
    }

    /// <summary>What the listing, its total, the stats and the metrics say that the records do not ("" when they agree).</summary>
    private async Task<string> DisagreementAsync(IReadOnlyList<string> ids, IReadOnlyList<JsonNode> records)
    {
        var listed = new List<(string Id, string Status)>();
        string? next = "/api/jobs?limit=10";
        long? total = null;
        while (next is not null)
        {
            var page = JsonNode.Parse(await _second.Client.GetStringAsync(next))!;
            total ??= (long?)page["pagination"]!["total"];
            listed.AddRange(page["jobs"]!.AsArray().Select(j => ((string)j!["id"]!, (string)j["status"]!)));
            next = (string?)page["pagination"]!["nextLink"] is { } link ? new Uri(link).PathAndQuery : null;
        }
        var problems = new List<string>();
        if (listed.Count != ids.Count || listed.Select(j => j.Id).Distinct().Count() != ids.Count || !ids.All(id => listed.Any(j => j.Id == id)))
        {
            problems.Add($"listed {listed.Count} rows for {ids.Count} jobs");
        }
        if (listed.Any(j => j.Status != "completed"))
        {
            problems.Add($"listed as {string.Join(",", listed.Where(j => j.Status != "completed").Select(j => j.Status))}");
        }
        if (total != ids.Count)
        {
            problems.Add($"pagination.total {total}");
        }
        var stats = JsonNode.Parse(await _second.Client.GetStringAsync("/api/jobs/stats"))!;
        var byStatus = stats["byStatus"]!.AsObject().Where(s => (long)s.Value! != 0).Select(s => $"{s.Key}={(long)s.Value!}").ToList();
        if ((long)stats["total"]! != ids.Count || byStatus is not [var only] || only != $"completed={ids.Count}")
        {
            problems.Add($"stats total {(long)stats["total"]!}, by status {string.Join(",", byStatus)}");
        }
        // The metrics, per type and minute, as a walk of the records counts them: each fact once, from both instances.
        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"));
        var metrics = MetricsCheck.Actual(JsonNode.Parse(await _second.Client.GetStringAsync($"/api/metrics?interval=minute&from={from}"))!);
        var expected = MetricsCheck.Expected(records, global::Jobs.Functions.Metrics.MetricInterval.Minute);
        if (metrics != expected)
        {
            problems.Add($"metrics\n{metrics}\nwhere the records say\n{expected}");
        }
        return string.Join("; ", problems);
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
    }
}
