using System.Text.Json.Nodes;
using Jobs.Functions.Handlers;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// Issue 26's done-when, scaled down: two instances on one storage account running jobs of a type limited to 3 per
/// concurrency key over 4 keys, one instance killed (<c>kill -9</c>) mid-run. The number running per key — sampled from
/// the records throughout, and counted by the handler itself — never exceeds 3, and every job ends as its handler decided.
/// </summary>
public sealed class TwoInstancesLimitTests : IDisposable
{
    private const int Jobs = 40;
    private static readonly string[] Keys = ["k1", "k2", "k3", "k4"];

    // As TwoInstancesTests: the killed instance's messages come back after 20 s, the reconciler runs every 2 s.
    private readonly RunnerProcess _first = new(_ => { }, new Dictionary<string, string>
    {
        ["Jobs__Runner__TestOverrides__WorkItemVisibilityTimeout"] = "00:00:20",
        ["Jobs__Runner__TestOverrides__ControlQueueVisibilityTimeout"] = "00:00:20",
        ["Jobs__Runner__Schedules__SweepTimedOutJobs"] = "*/2 * * * * *",
        ["Jobs__Reconciler__GraceSeconds"] = "5",
        ["Jobs__Identity__DevelopmentRoles"] = "admin",
    });

    private readonly RunnerProcess _second;

    public TwoInstancesLimitTests() => _second = new RunnerProcess(_first);

    [Fact]
    public async Task OneOfTwoInstancesKilled_ALimitOfThreePerKey_IsNeverExceeded_AndEveryJobCompletes()
    {
        await Task.WhenAll(_first.StartAsync(), _second.StartAsync());
        // Submitted to both at once, so more arrive than may run; the key is also the correlation id, which the list rows carry.
        var created = await Task.WhenAll(Enumerable.Range(0, Jobs).Select(i => RunnerFixture.CreateJobAsync(i % 2 == 0 ? _first.Client : _second.Client,
            new { type = DemoLimitedHandler.TypeName, input = new { delayMs = 3_000 }, concurrencyKey = Keys[i % Keys.Length], correlationId = Keys[i % Keys.Length], priority = i % 10 })));
        var ids = created.Select(c => (string)c["id"]!).ToList();

        var keyOf = ids.Select((id, i) => (id, key: Keys[i % Keys.Length])).ToDictionary(p => p.id, p => p.key);
        var peak = 0;
        var killed = false;
        while (true)
        {
            // Sampled from the records (one point read each), not the list rows: a projection a killed instance left
            // behind makes a list row trail its record until the reconciler settles it, but the slot follows the record.
            var statuses = await Task.WhenAll(ids.Select(async id =>
                (id, status: (string?)JsonNode.Parse(await _second.Client.GetStringAsync($"/api/jobs/{id}/status"))!["status"])));
            var runningPerKey = statuses.Where(s => s.status == "running").GroupBy(s => keyOf[s.id]).ToDictionary(g => g.Key, g => g.Count());
            var most = runningPerKey.Values.DefaultIfEmpty(0).Max();
            Assert.True(most <= DemoLimitedHandler.MaxPerKey, $"{most} running with one key: {string.Join(", ", runningPerKey)}");
            peak = Math.Max(peak, most);
            if (!killed && statuses.Count(s => s.status == "completed") >= 4)
            {
                await _first.KillAsync(); // mid-run: some ended, others running or queued on both instances
                killed = true;
            }
            if (statuses.All(s => s.status is "completed" or "failed" or "cancelled" or "timed_out"))
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.True(killed);
        Assert.Equal(DemoLimitedHandler.MaxPerKey, peak);

        var results = new List<JsonNode>();
        foreach (var id in ids)
        {
            var result = JsonNode.Parse(await _second.Client.GetStringAsync($"/api/jobs/{id}/result"))!;
            Assert.True((string?)result["status"] == "completed", $"{id}: {result.ToJsonString()}");
            results.Add(result["result"]!);
        }
        // The handler's own count, across both processes: how many runs of a key overlapped, by the times each ran.
        foreach (var byKey in results.GroupBy(r => (string)r["key"]!))
        {
            var runs = byKey.Select(r => ((DateTimeOffset)r["startedAt"]!, (DateTimeOffset)r["endedAt"]!)).ToList();
            var overlap = runs.Max(run => runs.Count(other => other.Item1 <= run.Item1 && run.Item1 < other.Item2));
            Assert.True(overlap <= DemoLimitedHandler.MaxPerKey, $"{overlap} runs of key {byKey.Key} overlapped");
        }
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
    }
}
