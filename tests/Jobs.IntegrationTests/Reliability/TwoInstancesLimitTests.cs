using System.Globalization;
using System.Text.Json.Nodes;
using Jobs.Functions.Handlers;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// Issue 26's done-when: two instances on one storage account running jobs of a type limited to 3 per concurrency key
/// over 4 keys, with several priorities mixed in, one instance killed (<c>kill -9</c>) mid-run. The number running per
/// key — sampled from the records throughout, and counted by the handler itself — never exceeds 3, every job ends as
/// its handler decided, and queued jobs start in priority, then arrival, order. The suite runs 40 jobs; the done-when's
/// 200 is <c>JOBS_TWO_INSTANCE_LIMIT_JOBS=200</c> (docs/reliability.md).
/// </summary>
[TakesAbout(40)]
public sealed class TwoInstancesLimitTests : IDisposable
{
    /// <summary>The environment variable that sets how many jobs run (40 when unset).</summary>
    public const string JobsVariable = "JOBS_TWO_INSTANCE_LIMIT_JOBS";

    private static readonly string[] Keys = ["k1", "k2", "k3", "k4"];

    private readonly RunnerProcess _first = TwoInstanceSettings.First();
    private readonly RunnerProcess _second;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _ended = new(StringComparer.Ordinal);

    public TwoInstancesLimitTests() => _second = new RunnerProcess(_first);

    private static int Jobs => Environment.GetEnvironmentVariable(JobsVariable) is { Length: > 0 } value
        ? int.Parse(value, CultureInfo.InvariantCulture)
        : 40;

    [Fact]
    public async Task OneOfTwoInstancesKilled_ALimitOfThreePerKey_IsNeverExceeded_EveryJobCompletes_AndQueuedJobsStartInPriorityOrder()
    {
        await Task.WhenAll(_first.StartAsync(), _second.StartAsync());
        // The type is paused while the jobs are submitted, so every one of them waits in the queue before the first
        // starts: then the order they must start in is known exactly (per key: priority, then arrival).
        using (var paused = await _second.Client.PostAsync($"/api/job-types/{DemoLimitedHandler.TypeName}/pause", null))
        {
            Assert.True(paused.IsSuccessStatusCode, $"pause: {(int)paused.StatusCode}");
        }
        // Submitted to both at once; the key is also the correlation id, which the list rows carry. Each key gets every
        // priority, rising with arrival, so arrival order and priority order disagree.
        // At most 8 creates in flight, as a client with a small connection pool sends them (200 at once, or 20, outlast a client's timeout on a busy machine).
        var created = new JsonObject[Jobs];
        using (var inFlight = new SemaphoreSlim(8))
        {
            await Task.WhenAll(Enumerable.Range(0, Jobs).Select(async i =>
            {
                await inFlight.WaitAsync();
                try
                {
                    created[i] = await RunnerFixture.CreateJobAsync(i % 2 == 0 ? _first.Client : _second.Client,
                        new { type = DemoLimitedHandler.TypeName, input = new { delayMs = 3_000 }, concurrencyKey = Keys[i % Keys.Length], correlationId = Keys[i % Keys.Length], priority = i / Keys.Length % 10 });
                }
                finally
                {
                    inFlight.Release();
                }
            }));
        }
        var ids = created.Select(c => (string)c["id"]!).ToList();
        var keyOf = created.ToDictionary(c => (string)c["id"]!, c => (string)c["concurrencyKey"]!);
        // A bound against a hang, not a speed target: generous, as the machine may be shared.
        var until = DateTimeOffset.UtcNow.AddMinutes(20 + Jobs / 10);
        while ((await StatusesAsync(ids)).Any(s => s.Status != "queued"))
        {
            Assert.True(DateTimeOffset.UtcNow < until, $"not all {Jobs} jobs queued while the type is paused by {until:O}");
            await Task.Delay(100);
        }
        using (var resumed = await _second.Client.PostAsync($"/api/job-types/{DemoLimitedHandler.TypeName}/resume", null))
        {
            Assert.True(resumed.IsSuccessStatusCode, $"resume: {(int)resumed.StatusCode}");
        }

        var peak = 0;
        var killed = false;
        while (true)
        {
            // Sampled from the records (one point read each), not the list rows: a projection a killed instance left
            // behind makes a list row trail its record until the reconciler settles it, but the slot follows the record.
            var statuses = await StatusesAsync(ids);
            var runningPerKey = statuses.Where(s => s.Status == "running").GroupBy(s => keyOf[s.Id]).ToDictionary(g => g.Key, g => g.Count());
            var most = runningPerKey.Values.DefaultIfEmpty(0).Max();
            Assert.True(most <= DemoLimitedHandler.MaxPerKey, $"{most} running with one key: {string.Join(", ", runningPerKey)}");
            peak = Math.Max(peak, most);
            if (!killed && statuses.Count(s => s.Status == "completed") >= Math.Max(4, Jobs / 10))
            {
                await _first.KillAsync(); // mid-run: some ended, others running or queued on both instances
                killed = true;
            }
            if (statuses.All(s => s.Status is "completed" or "failed" or "cancelled" or "timed_out"))
            {
                break;
            }
            Assert.True(DateTimeOffset.UtcNow < until, $"not all ended by {until:O}: {string.Join(", ", statuses.GroupBy(s => s.Status).Select(g => $"{g.Key}={g.Count()}"))}"
                + $"; not ended: {string.Join(", ", statuses.Where(s => s.Status is not ("completed" or "failed" or "cancelled" or "timed_out")).Select(s => $"{s.Id} ({keyOf[s.Id]}, {s.Status})"))}"
                + $"\nthe surviving instance's last lines:\n{string.Join('\n', _second.Output.Split('\n').TakeLast(60))}");
            await Task.Delay(100);
        }
        Assert.True(killed);
        Assert.Equal(DemoLimitedHandler.MaxPerKey, peak);

        var runs = new List<Run>();
        foreach (var job in created)
        {
            var id = (string)job["id"]!;
            var result = JsonNode.Parse(await _second.Client.GetStringAsync($"/api/jobs/{id}/result"))!;
            Assert.True((string?)result["status"] == "completed", $"{id}: {result.ToJsonString()}");
            runs.Add(new Run(id, (string)result["result"]!["key"]!, (int)job["priority"]!, (DateTimeOffset)job["createdAt"]!,
                (DateTimeOffset)result["result"]!["startedAt"]!, (DateTimeOffset)result["result"]!["endedAt"]!));
        }
        foreach (var byKey in runs.GroupBy(r => r.Key))
        {
            // The handler's own count, across both processes: how many runs of a key overlapped, by the times each ran.
            var overlap = byKey.Max(run => byKey.Count(other => other.StartedAt <= run.StartedAt && run.StartedAt < other.EndedAt));
            Assert.True(overlap <= DemoLimitedHandler.MaxPerKey, $"{overlap} runs of key {byKey.Key} overlapped");

            // Start order. Every job waited before any started, so when a job was granted its slot, every job ahead of
            // it in line (priority, then arrival, then id: the queue's order) had been granted one too. Those of them
            // whose run began only after this one's still held their slots when this one began, beside its own: at most
            // MaxPerKey − 1 of them. Started in arrival order, the first job would have dozens ahead of it still waiting.
            var line = byKey.OrderByDescending(r => r.Priority).ThenBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
            for (var place = 0; place < line.Count; place++)
            {
                var late = line.Take(place).Where(ahead => ahead.StartedAt > line[place].StartedAt).ToList();
                Assert.True(late.Count <= DemoLimitedHandler.MaxPerKey - 1,
                    $"key {byKey.Key}: job {line[place].Id} (priority {line[place].Priority}, #{place + 1} in line) started at {line[place].StartedAt:O}, before {late.Count} jobs ahead of it: "
                    + string.Join(", ", late.Select(r => $"{r.Id} (priority {r.Priority}) at {r.StartedAt:O}")));
            }
        }
    }

    /// <summary>Every job's status, from its record (one point read each, read at once; an ended job is not read again).</summary>
    private async Task<(string Id, string? Status)[]> StatusesAsync(IReadOnlyList<string> ids) =>
        await Task.WhenAll(ids.Select(async id => (id, _ended.TryGetValue(id, out var ended) ? ended : Remember(id,
            (string?)JsonNode.Parse(await _second.Client.GetStringAsync($"/api/jobs/{id}/status"))!["status"]))));

    private string? Remember(string id, string? status)
    {
        if (status is "completed" or "failed" or "cancelled" or "timed_out")
        {
            _ended[id] = status;
        }
        return status;
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
    }

    private sealed record Run(string Id, string Key, int Priority, DateTimeOffset CreatedAt, DateTimeOffset StartedAt, DateTimeOffset EndedAt);
}
