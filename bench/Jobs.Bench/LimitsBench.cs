using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;

namespace Jobs.Bench;

/// <summary>
/// Issue 26's measurements (<c>scripts/bench.sh --limits</c>), each on emulators of its own (split layout):
/// how soon a queued job starts once a slot frees up, with the storage requests a limited type adds per job; and a bulk
/// rerun of many failed jobs — its exact counts, every rerun's link to its original, and the time it took.
/// Writes bench/results/limits.json and its section of docs/benchmarks.md.
/// </summary>
public static class LimitsBench
{
    private const string User = "bench-limits";
    private static readonly string[] Keys = ["k1", "k2", "k3", "k4"];

    public static async Task RunAsync(string repo, int queuedJobs, int rerunJobs, string markdownPath)
    {
        var clock = Stopwatch.StartNew();
        var result = new JsonObject
        {
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            ["command"] = $"scripts/bench.sh --limits {queuedJobs} --bulk-rerun {rerunJobs}",
            ["commit"] = await GitAsync(repo, "rev-parse --short HEAD"),
        };
        if (queuedJobs > 0)
        {
            result["queued"] = await QueuedStartAsync(repo, queuedJobs);
        }
        if (rerunJobs > 0)
        {
            result["bulkRerun"] = await BulkRerunAsync(repo, rerunJobs);
        }
        result["totalSeconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        var raw = Path.Combine(repo, "bench", "results", "limits.json");
        await KeepSkippedPartsAsync(raw, result);
        await File.WriteAllTextAsync(raw, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        await Soak.WriteSectionAsync(markdownPath, "limits", Render(result));
        Console.WriteLine($"wrote {raw} and the limits section of {markdownPath}");
    }

    /// <summary>
    /// A part this run skipped (<c>--limits 0</c> or <c>--bulk-rerun 0</c>) keeps the saved run's, marked with that run's
    /// date and commit, so measuring one part does not drop the other from the report.
    /// </summary>
    private static async Task KeepSkippedPartsAsync(string raw, JsonObject result)
    {
        if (!File.Exists(raw) || JsonNode.Parse(await File.ReadAllTextAsync(raw)) is not JsonObject saved)
        {
            return;
        }
        foreach (var part in new[] { "queued", "bulkRerun" })
        {
            if (result[part] is null && saved[part] is JsonObject old)
            {
                var kept = (JsonObject)old.DeepClone();
                kept["from"] ??= $"{saved["date"]}, commit {saved["commit"]}";
                result[part] = kept;
            }
        }
    }

    /// <summary>Puts the last run's section (bench/results/limits.json) back into a freshly rendered report.</summary>
    public static Task RenderSavedAsync(string repo, string markdownPath) => Soak.RenderSavedSectionAsync(repo, markdownPath, "limits", Render);

    /// <summary>
    /// Three runs on one runner, each counted alone: an unlimited type (<c>demo.steps</c>, one step of 1 s), the limited
    /// <c>demo.limited</c> within its limits (3 per key over 4 keys: none waits), and <paramref name="jobs"/> of it at once
    /// (most wait <c>queued</c>). The last gives the latency: per key, the k-th job beyond the first 3 to start took the
    /// slot the k-th job to end gave back, so its wait after the slot freed is its record's <c>startedAt</c> minus that
    /// job's <c>completedAt</c>.
    /// </summary>
    private static async Task<JsonObject> QueuedStartAsync(string repo, int jobs)
    {
        await using var emulators = await Emulators.StartAsync("split");
        await using var runner = await BenchRunner.StartAsync(repo, emulators.App.ConnectionString, "lim" + Guid.NewGuid().ToString("N")[..6], taskHubConnection: emulators.TaskHub?.ConnectionString);
        using var user = runner.Client(User);
        // Warm-up, not counted: both types once.
        await Task.WhenAll(
            EndAsync(runner, await CreateAsync(user, new { type = "demo.steps", input = new { steps = 1 } })),
            EndAsync(runner, await CreateAsync(user, new { type = DemoLimitedHandler.TypeName, input = new { delayMs = 0 }, concurrencyKey = "warm" })));

        var unlimited = await CountedAsync(runner, user, jobs, i => new { type = "demo.steps", input = new { steps = 1, delayMs = 1_000 } });
        var within = await CountedAsync(runner, user, DemoLimitedHandler.MaxPerKey * Keys.Length, i => new { type = DemoLimitedHandler.TypeName, input = new { delayMs = 1_000 }, concurrencyKey = Keys[i % Keys.Length] });
        var queued = await CountedAsync(runner, user, jobs, i => new { type = DemoLimitedHandler.TypeName, input = new { delayMs = 1_000 }, concurrencyKey = Keys[i % Keys.Length] });

        var records = new List<Job>();
        foreach (var id in queued.Ids)
        {
            records.Add((await runner.Store.GetAsync(id, CancellationToken.None))!);
        }
        var waits = new List<double>();
        var negative = 0;
        foreach (var byKey in records.GroupBy(r => r.ConcurrencyKey))
        {
            var starts = byKey.Select(r => r.StartedAt!.Value).Order().ToList();
            var ends = byKey.Select(r => r.CompletedAt!.Value).Order().ToList();
            for (var k = 0; k + DemoLimitedHandler.MaxPerKey < starts.Count; k++)
            {
                var wait = (starts[k + DemoLimitedHandler.MaxPerKey] - ends[k]).TotalMilliseconds;
                negative += wait < 0 ? 1 : 0; // a start before the slot it needs was freed: the limit exceeded
                waits.Add(wait);
            }
        }
        var latency = Percentiles.Of(waits);
        Console.WriteLine($"queued start: {latency.Count} waits, p50 {latency.P50:F0} ms, p95 {latency.P95:F0} ms, max {latency.Max:F0} ms; app requests per job: unlimited {unlimited.AppPerJob:F1}, limited within {within.AppPerJob:F1}, limited queued {queued.AppPerJob:F1}");
        return new JsonObject
        {
            ["jobs"] = jobs,
            ["keys"] = Keys.Length,
            ["maxPerKey"] = DemoLimitedHandler.MaxPerKey,
            ["delayMs"] = 1_000,
            ["samples"] = latency.Count,
            ["p50Ms"] = Math.Round(latency.P50, 1),
            ["p95Ms"] = Math.Round(latency.P95, 1),
            ["p99Ms"] = Math.Round(latency.P99, 1),
            ["maxMs"] = Math.Round(latency.Max, 1),
            ["startsBeforeTheirSlotFreed"] = negative,
            ["cost"] = new JsonArray(
                unlimited.Json("unlimited (demo.steps, 1 step of 1 s)"),
                within.Json($"limited, none waits (demo.limited, {DemoLimitedHandler.MaxPerKey} per key over {Keys.Length} keys)"),
                queued.Json($"limited, most wait (demo.limited, all {jobs} at once)")),
        };
    }

    private sealed record Counted(IReadOnlyList<string> Ids, double Seconds, IReadOnlyDictionary<string, long> App, IReadOnlyDictionary<string, long> Durable)
    {
        public double AppPerJob => App.Values.Sum() / (double)Ids.Count;

        public JsonObject Json(string run) => new()
        {
            ["run"] = run,
            ["jobs"] = Ids.Count,
            ["seconds"] = Math.Round(Seconds, 1),
            ["appPerJob"] = Math.Round(AppPerJob, 1),
            ["appByKind"] = new JsonObject(App.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => KeyValuePair.Create(c.Key, (JsonNode?)Math.Round(c.Value / (double)Ids.Count, 1)))),
            ["durablePerJob"] = Math.Round(Durable.Values.Sum() / (double)Ids.Count, 1),
        };
    }

    /// <summary>
    /// Submits <paramref name="jobs"/> at once and waits for all to end on the durable client, so nothing but the
    /// service itself touches the app's storage while the counter runs.
    /// </summary>
    private static async Task<Counted> CountedAsync(BenchRunner runner, HttpClient user, int jobs, Func<int, object> body)
    {
        runner.AppRequests.Reset();
        runner.DurableRequests.Reset();
        var clock = Stopwatch.StartNew();
        var ids = await Task.WhenAll(Enumerable.Range(0, jobs).Select(i => CreateAsync(user, body(i))));
        await Task.WhenAll(ids.Select(id => EndAsync(runner, id)));
        return new Counted(ids, clock.Elapsed.TotalSeconds, runner.AppRequests.Snapshot(), runner.DurableRequests.Snapshot());
    }

    /// <summary>
    /// <paramref name="jobs"/> failed jobs (one step that fails, and would not fail again in a rerun), made through the
    /// API as a stream that keeps at most 100 unfinished; then one <c>POST /api/jobs/bulk</c> rerun of every failed job
    /// of the type, timed from the request to the bulk job's end; then its counts and every link, from the records.
    /// </summary>
    private static async Task<JsonObject> BulkRerunAsync(string repo, int jobs)
    {
        await using var emulators = await Emulators.StartAsync("split");
        await using var runner = await BenchRunner.StartAsync(repo, emulators.App.ConnectionString, "blk" + Guid.NewGuid().ToString("N")[..6], taskHubConnection: emulators.TaskHub?.ConnectionString);
        using var user = runner.Client(User);
        var seeding = Stopwatch.StartNew();
        var originals = new List<string>();
        using (var window = new SemaphoreSlim(100))
        {
            await Task.WhenAll(Enumerable.Range(0, jobs).Select(async _ =>
            {
                await window.WaitAsync();
                try
                {
                    var id = await CreateAsync(user, new { type = "demo.steps", input = new { steps = 1, failAtStep = 1, recoverOnRerun = true } });
                    lock (originals)
                    {
                        originals.Add(id);
                    }
                    await EndAsync(runner, id);
                }
                finally
                {
                    window.Release();
                }
            }));
        }
        var seedSeconds = seeding.Elapsed.TotalSeconds;
        Console.WriteLine($"bulk rerun: {jobs} failed jobs made in {seedSeconds:F0} s");
        foreach (var id in originals)
        {
            var job = (await runner.Store.GetAsync(id, CancellationToken.None))!;
            if (job.Status != JobStatus.Failed)
            {
                throw new InvalidOperationException($"{id} ended {job.Status}, not failed");
            }
        }

        var timed = Stopwatch.StartNew();
        using var response = await user.PostAsJsonAsync("/api/jobs/bulk", new { action = "rerun", filter = new { type = new[] { "demo.steps" }, status = new[] { "failed" } } });
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 202)
        {
            throw new InvalidOperationException($"bulk: {(int)response.StatusCode} {text}");
        }
        var bulkId = (string)JsonNode.Parse(text)!["id"]!;
        while (true)
        {
            var status = (string?)JsonNode.Parse(await user.GetStringAsync($"/api/jobs/{bulkId}/status"))!["status"];
            if (status is "completed" or "failed" or "cancelled" or "timed_out")
            {
                if (status != "completed")
                {
                    throw new InvalidOperationException($"the bulk job ended {status}");
                }
                break;
            }
            await Task.Delay(100);
        }
        var seconds = timed.Elapsed.TotalSeconds;
        var bulk = (await runner.Store.GetAsync(bulkId, CancellationToken.None))!;
        var outcome = JsonNode.Parse(bulk.Result!.Value.GetRawText())!;

        // Every original names its rerun, and every rerun names its original back: distinct, one each.
        var linked = 0;
        var broken = new List<string>();
        var reruns = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in originals)
        {
            var original = (await runner.Store.GetAsync(id, CancellationToken.None))!;
            var rerun = original.RerunBy is { } by ? await runner.Store.GetAsync(by, CancellationToken.None) : null;
            if (rerun?.RerunOf == id && reruns.Add(rerun.Id))
            {
                linked++;
            }
            else
            {
                broken.Add(id);
            }
        }
        Console.WriteLine($"bulk rerun: {seconds:F1} s; result {outcome.ToJsonString()}; linked both ways {linked} of {jobs}");
        return new JsonObject
        {
            ["failedJobs"] = jobs,
            ["madeSeconds"] = Math.Round(seedSeconds, 1),
            ["seconds"] = Math.Round(seconds, 1),
            ["result"] = outcome,
            ["linkedBothWays"] = linked,
            ["unlinked"] = new JsonArray([.. broken.Take(20).Select(id => (JsonNode)id)]),
        };
    }

    private static string Render(JsonObject r)
    {
        var md = new StringBuilder();
        md.AppendLine("## Concurrency limits and bulk rerun (issue 26)").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Run {r["date"]} on {r["machine"]} (`{r["command"]}` at commit {r["commit"]}, raw: `bench/results/limits.json`), each part on emulators of its own (split layout), {r["totalSeconds"]} s in all.{(r["note"] is { } n ? " " + n : "")}").AppendLine();
        if (r["queued"] is { } q)
        {
            var from = q["from"] is { } f ? $" (from the run of {f})" : "";
            md.AppendLine(CultureInfo.InvariantCulture, $"**A queued job's start after a slot frees up{from}.** {q["jobs"]} `demo.limited` jobs (one step of {q["delayMs"]} ms; at most {q["maxPerKey"]} running per `concurrencyKey`, over {q["keys"]} keys) submitted at once, so most wait `queued`. Per key, the k-th job beyond the first {q["maxPerKey"]} to start took the slot the k-th to end gave back: its wait is its record's `startedAt` minus that job's `completedAt` (both written by the service; the span covers the release, the grant, the wake-up event and the orchestration's first step).").AppendLine();
            md.AppendLine("| waits | p50 ms | p95 ms | p99 ms | max ms | starts before their slot freed | p95 must be |").AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| {q["samples"]} | {q["p50Ms"]} | {q["p95Ms"]} | {q["p99Ms"]} | {q["maxMs"]} | {q["startsBeforeTheirSlotFreed"]} | ≤ 2000 |").AppendLine();
            md.AppendLine("Storage requests per job, counted at the client pipeline while each run's jobs were submitted at once and waited for on the durable client (`app`: the service's own clients; `durable`: the task hub's, which includes the engine's queue polling for as long as the run lasts):").AppendLine();
            md.AppendLine("| run | jobs | seconds | app per job | durable per job | app requests by kind, per job |").AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
            foreach (var c in q["cost"]!.AsArray())
            {
                var kinds = string.Join(", ", c!["appByKind"]!.AsObject().Select(k => $"{k.Key} {k.Value}"));
                md.AppendLine(CultureInfo.InvariantCulture, $"| {c["run"]} | {c["jobs"]} | {c["seconds"]} | {c["appPerJob"]} | {c["durablePerJob"]} | {kinds} |");
            }
            md.AppendLine();
        }
        if (r["bulkRerun"] is { } b)
        {
            var result = b["result"]!;
            var done = string.Join(", ", result["done"]!.AsObject().Select(d => $"{d.Key} {d.Value}"));
            var skipped = result["skipped"]!.AsObject().Count == 0 ? "none" : string.Join(", ", result["skipped"]!.AsObject().Select(d => $"{d.Key} {d.Value}"));
            var from = b["from"] is { } f ? $" (from the run of {f})" : "";
            md.AppendLine(CultureInfo.InvariantCulture, $"**A bulk rerun of {b["failedJobs"]} failed jobs{from}.** {b["failedJobs"]} `demo.steps` jobs that fail at their one step, made through the API ({b["madeSeconds"]} s), then one `POST /api/jobs/bulk` with `action: rerun` and the filter `type: demo.steps, status: failed`, timed from the request to the bulk job's end; the links are read from the records afterwards.").AppendLine();
            md.AppendLine("| measure | value | must be |").AppendLine("| --- | ---: | ---: |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| matched (the bulk job's result) | {result["matched"]} | {b["failedJobs"]} |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| done | {done} | rerun {b["failedJobs"]} |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| skipped | {skipped} | none |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| originals whose `rerunBy` names a rerun whose `rerunOf` names them back (distinct) | {b["linkedBothWays"]} | {b["failedJobs"]} |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| seconds from the request to the bulk job's end | {b["seconds"]} | |").AppendLine();
        }
        return md.ToString();
    }

    private static async Task<string> CreateAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/jobs", body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"create: {(int)response.StatusCode} {text}");
        }
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    /// <summary>Waits for the job's orchestration to end (the durable client: no read of the app's storage).</summary>
    private static Task EndAsync(BenchRunner runner, string id) => runner.Durable.WaitForInstanceCompletionAsync(id);

    private static async Task<string> GitAsync(string repo, string arguments)
    {
        using var git = Process.Start(new ProcessStartInfo("git", arguments) { WorkingDirectory = repo, RedirectStandardOutput = true })!;
        var text = await git.StandardOutput.ReadToEndAsync();
        await git.WaitForExitAsync();
        return text.Trim();
    }
}
