using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Bench;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.LocalRunner.Configuration;

// Usage: Jobs.Bench --repo DIR [--pair-size 200] [--pairs 5] [--warmup 50] [--large 2000] [--large-window 100] [--no-large-bare]
//        [--layouts shared,split] [--load-fraction 0.5]
//        [--scale 10000,100000] [--no-stall-check] [--out docs/benchmarks.md] [--render results.json] | --soak N [--fault-rate 0.1]
//        | --scale-only (only the listing scale, merged into the saved results)
//        | --webhooks N [--webhook-subscriptions 2] (only the webhooks scenario: N jobs without, then with, subscriptions)
//        | --limits 200 [--bulk-rerun 1000] (only issue 26's: queued-start latency and requests, a bulk rerun)
//        | --emulator-costs (only the table emulator's CPU per request and per entity)
// Every phase starts Azurite processes of its own (JOBS_AZURITE: the binary); the soak uses JOBS_BENCH_STORAGE.
// Throughput: --pairs 5 alternating runs of ours and the bare engine at --pair-size jobs per layout (--layouts
// shared,split), then one run of --large jobs in the faster layout (and of the bare engine), as a stream that keeps at
// most --large-window of them unfinished (0: all submitted at once); latency at --load-fraction of what it sustained.
var repo = Arg("--repo") ?? Directory.GetCurrentDirectory();
const int MinScaleSize = 5_050; // offset 5,000 and a page of 50
var scaleSizes = (Arg("--scale") ?? "10000,100000").Split(',').Select(int.Parse).ToArray();
if (scaleSizes.Any(size => size < MinScaleSize))
{
    // The scale phase reads page 21 by cursor and offset 5,000: a smaller table has no such page.
    Console.Error.WriteLine($"--scale {string.Join(',', scaleSizes)}: each size must be at least {MinScaleSize}");
    Environment.Exit(2);
}
var output = Arg("--out") ?? Path.Combine(repo, "docs", "benchmarks.md");
if (Arg("--render") is { } saved)
{
    // Re-render the report from saved raw results (e.g. after editing bench/ANALYSIS.md), without measuring.
    var results = JsonNode.Parse(await File.ReadAllTextAsync(saved))!.AsObject();
    await File.WriteAllTextAsync(output, Markdown.Render(results, await ReadOptional(Path.Combine(repo, "bench", "ANALYSIS.md"))));
    await RenderSavedSectionsAsync();
    Console.WriteLine($"rendered {output} from {saved}");
    return;
}
if (Arg("--soak") is { } soakJobs)
{
    var connection = Environment.GetEnvironmentVariable("JOBS_BENCH_STORAGE") ?? throw new InvalidOperationException("JOBS_BENCH_STORAGE is not set");
    // The soak alone: jobs under random storage faults, checked for stranded jobs, wrong outcomes and stale rows.
    await Soak.RunAsync(repo, connection, int.Parse(soakJobs, CultureInfo.InvariantCulture), double.Parse(Arg("--fault-rate") ?? "0.1", CultureInfo.InvariantCulture), output);
    return;
}
if (Arg("--soak-two") is { } twoJobs)
{
    var connection = Environment.GetEnvironmentVariable("JOBS_BENCH_STORAGE") ?? throw new InvalidOperationException("JOBS_BENCH_STORAGE is not set");
    // The scale-out soak alone: two runner processes on one storage account, one killed with SIGKILL mid-run.
    await TwoInstanceSoak.RunAsync(repo, connection, int.Parse(twoJobs, CultureInfo.InvariantCulture), output);
    return;
}
if (Arg("--webhooks") is { } webhookJobs)
{
    // Only the webhooks scenario: deliveries per second to a local receiver and the requests a subscription adds.
    await WebhookBench.RunAsync(repo, int.Parse(webhookJobs, CultureInfo.InvariantCulture),
        int.Parse(Arg("--webhook-subscriptions") ?? "2", CultureInfo.InvariantCulture), output);
    return;
}
if (Arg("--limits") is not null || Arg("--bulk-rerun") is not null)
{
    // Issue 26 alone: a queued job's start after a slot frees (and the requests a limited type adds), a bulk rerun.
    await LimitsBench.RunAsync(repo, int.Parse(Arg("--limits") ?? "0", CultureInfo.InvariantCulture),
        int.Parse(Arg("--bulk-rerun") ?? "0", CultureInfo.InvariantCulture), output);
    return;
}
if (Flag("--emulator-costs"))
{
    // Only the table emulator's CPU per request and per entity, on an Azurite of its own.
    await EmulatorCosts.RunAsync(repo, output);
    return;
}
if (Flag("--stream-only"))
{
    // Only the event-stream latency, on emulators of its own, merged into the saved results (and re-rendered).
    var savedPath = Path.Combine(repo, "bench", "results", "benchmarks.json");
    var results = JsonNode.Parse(await File.ReadAllTextAsync(savedPath))!.AsObject();
    await using (var emulators = await Emulators.StartAsync("split"))
    await using (var runner = await BenchRunner.StartAsync(repo, emulators.App.ConnectionString, "sse" + Guid.NewGuid().ToString("N")[..6], taskHubConnection: emulators.TaskHub?.ConnectionString))
    {
        using var user = runner.Client("bench-user");
        await WaitAsync(user, await CreateAsync(user, new { type = "demo.steps", input = new { steps = 1 } }));
        results["streamLatency"] = await StreamLatencyAsync(runner);
        results["streamLatency"]!["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
    }
    await File.WriteAllTextAsync(savedPath, results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    await File.WriteAllTextAsync(output, Markdown.Render(results, await ReadOptional(Path.Combine(repo, "bench", "ANALYSIS.md"))));
    await RenderSavedSectionsAsync();
    Console.WriteLine(results["streamLatency"]!.ToJsonString());
    return;
}
if (Flag("--scale-only"))
{
    // Only the listings with many jobs stored, on emulators of their own, merged into the saved results (and re-rendered).
    var savedPath = Path.Combine(repo, "bench", "results", "benchmarks.json");
    var results = JsonNode.Parse(await File.ReadAllTextAsync(savedPath))!.AsObject();
    results["scale"] = await ScaleAllAsync();
    results["scaleDate"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
    await File.WriteAllTextAsync(savedPath, results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    await File.WriteAllTextAsync(output, Markdown.Render(results, await ReadOptional(Path.Combine(repo, "bench", "ANALYSIS.md"))));
    await RenderSavedSectionsAsync();
    Console.WriteLine(results["scale"]!.ToJsonString());
    return;
}
const int Steps = 5;
var pairSize = int.Parse(Arg("--pair-size") ?? "200", CultureInfo.InvariantCulture);
var pairs = int.Parse(Arg("--pairs") ?? "5", CultureInfo.InvariantCulture);
if (pairs < 1)
{
    Console.Error.WriteLine("--pairs: at least 1 (the ratio is the median of the pairs)");
    Environment.Exit(2);
}
var large = int.Parse(Arg("--large") ?? "2000", CultureInfo.InvariantCulture);
// A stream, not a burst: a service receives its jobs over time, and Azurite (not Azure Storage) makes every queue
// operation dearer with every message waiting in the account (see the large run below and the analysis).
var largeWindow = int.Parse(Arg("--large-window") ?? "100", CultureInfo.InvariantCulture);
var layouts = (Arg("--layouts") ?? string.Join(',', Emulators.Layouts)).Split(',', StringSplitOptions.TrimEntries).Distinct().ToList();
if (layouts.FirstOrDefault(l => !Emulators.Layouts.Contains(l)) is { } unknown)
{
    // An unknown name would otherwise run some other layout under its name.
    Console.Error.WriteLine($"--layouts: unknown layout '{unknown}' (known: {string.Join(", ", Emulators.Layouts)})");
    Environment.Exit(2);
}
var loadFraction = double.Parse(Arg("--load-fraction") ?? "0.5", CultureInfo.InvariantCulture);
var warmup = int.Parse(Arg("--warmup") ?? "50", CultureInfo.InvariantCulture);
// Jobs each measured run's fresh runner (or bare engine) runs first, unmeasured: what a host pays once at its start.
var runWarmup = Math.Max(1, int.Parse(Arg("--run-warmup") ?? "20", CultureInfo.InvariantCulture));
// The bare engine runs with the durable settings of the app's host.json, as the runner does.
var hostSettings = HostSettings.Load(Path.Combine(repo, "host.json"), new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
var clock = Stopwatch.StartNew();
var report = new JsonObject
{
    ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
    ["machine"] = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
    ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
    ["build"] = typeof(BenchRunner).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
        .OfType<System.Reflection.AssemblyConfigurationAttribute>().FirstOrDefault()?.Configuration ?? "?",
    ["storage"] = "Azurite 3.37.0, in memory, loopback; every phase (and every run of a pair) on emulators of its own",
};

// 1 + 2. Throughput: ours against the bare engine, alternating, each run on fresh emulators, per layout.
var throughput = new JsonArray();
// The durable backend's requests per job by kind in the last run of each side, and the app's in ours'.
IReadOnlyDictionary<string, double> oursDurableByKind = new Dictionary<string, double>(), bareDurableByKind = oursDurableByKind, oursAppByKind = oursDurableByKind;
var sustained = new Dictionary<string, double>();
foreach (var layout in layouts)
{
    var ours = new List<double>();
    var bare = new List<double>();
    var ratios = new List<double>();
    var oursDurable = new List<double>();
    var bareDurable = new List<double>();
    var oursCpu = new List<CpuPerJob>();
    var bareCpu = new List<CpuPerJob>();
    async Task<double> Ours(int jobs)
    {
        await using var emulators = await Emulators.StartAsync(layout);
        var cpu = new CpuMeter(emulators);
        var run = await ThroughputAsync(emulators, jobs, measuring: cpu.Start);
        oursCpu.Add(cpu.PerJob(jobs));
        oursDurable.Add(run.DurableByKind.Values.Sum());
        oursDurableByKind = run.DurableByKind;
        oursAppByKind = run.AppByKind;
        return run.Seconds;
    }
    async Task<double> Bare(int jobs)
    {
        await using var emulators = await Emulators.StartAsync(layout);
        var requests = new StorageRequestCounter();
        var cpu = new CpuMeter(emulators);
        var seconds = await BareEngine.RunAsync(emulators.DurableConnection, jobs, Steps, hostSettings, requests, measuring: cpu.Start, runWarmup: runWarmup);
        bareCpu.Add(cpu.PerJob(jobs));
        bareDurable.Add(requests.Snapshot().Values.Sum() / (double)jobs);
        bareDurableByKind = requests.Snapshot().ToDictionary(k => k.Key, k => k.Value / (double)jobs);
        return seconds;
    }
    if (warmup > 0)
    {
        // Both run once, unmeasured: the engine's code (shared by both, in this one process) is compiled and tiered
        // up before the first measured run, so neither side pays the JIT for the other.
        Console.WriteLine($"throughput {layout} warm-up: ours {await Ours(warmup):F1} s, bare {await Bare(warmup):F1} s ({warmup} jobs each, not counted)");
        oursDurable.Clear();
        bareDurable.Clear();
        oursCpu.Clear();
        bareCpu.Clear();
    }
    for (var pair = 1; pair <= pairs; pair++)
    {
        // Which side runs first alternates, so a drift during the run (the machine, the process's heap) does not
        // always fall on the same side.
        if (pair % 2 == 1)
        {
            ours.Add(await Ours(pairSize));
            bare.Add(await Bare(pairSize));
        }
        else
        {
            bare.Add(await Bare(pairSize));
            ours.Add(await Ours(pairSize));
        }
        ratios.Add(bare[^1] / ours[^1]);
        Console.WriteLine($"durable requests per job by kind: ours {KindsJson(oursDurableByKind).ToJsonString()}; bare {KindsJson(bareDurableByKind).ToJsonString()}; app (ours) {KindsJson(oursAppByKind).ToJsonString()}");
        Console.WriteLine($"throughput {layout} pair {pair}: ours {ours[^1]:F1} s, bare {bare[^1]:F1} s, ratio {ratios[^1]:F3}; durable requests per job: ours {oursDurable[^1]:F1}, bare {bareDurable[^1]:F1}; CPU ms per job (emulators, task hub's, this process): ours {oursCpu[^1].Emulators:F0}, {oursCpu[^1].TaskHub:F0}, {oursCpu[^1].Process:F0} (JIT {oursCpu[^1].Jit:F1}); bare {bareCpu[^1].Emulators:F0}, {bareCpu[^1].TaskHub:F0}, {bareCpu[^1].Process:F0} (JIT {bareCpu[^1].Jit:F1})");
    }
    var oursMedian = Median(ours);
    var bareMedian = Median(bare);
    sustained[layout] = pairSize / oursMedian;
    throughput.Add(new JsonObject
    {
        ["layout"] = layout,
        ["jobs"] = pairSize,
        ["pairs"] = pairs,
        ["seconds"] = Math.Round(oursMedian, 2),
        ["jobsPerSecond"] = Math.Round(pairSize / oursMedian, 2),
        ["stepsPerSecond"] = Math.Round(pairSize * Steps / oursMedian, 1),
        ["bareSeconds"] = Math.Round(bareMedian, 2),
        ["bareJobsPerSecond"] = Math.Round(pairSize / bareMedian, 2),
        ["ratioToBare"] = Math.Round(Median(ratios), 3),
        ["ratioRuns"] = new JsonArray([.. ratios.Select(r => (JsonNode)Math.Round(r, 3))]),
        ["secondsRuns"] = new JsonArray([.. ours.Select(r => (JsonNode)Math.Round(r, 2))]),
        ["bareSecondsRuns"] = new JsonArray([.. bare.Select(r => (JsonNode)Math.Round(r, 2))]),
        // The durable backend's requests per job in the measured runs (median), ours and the bare engine's, counted alike.
        ["durableRequestsPerJob"] = Math.Round(Median(oursDurable), 1),
        ["bareDurableRequestsPerJob"] = Math.Round(Median(bareDurable), 1),
        // By kind (method and service), from the last pair: where the two sides' requests differ.
        ["durableRequestsByKind"] = KindsJson(oursDurableByKind),
        ["bareDurableRequestsByKind"] = KindsJson(bareDurableByKind),
        // The app's own storage requests per job by kind in ours' last run, the bench's reading of the job-events queue
        // (the queue GETs and DELETEs) included: what ours' app emulator served.
        ["appRequestsByKind"] = KindsJson(oursAppByKind),
        ["warmupJobs"] = warmup,
        // CPU per job in the measured runs (median of each part), and the share of the machine's cores a run kept busy.
        ["cpuMsPerJob"] = new JsonObject { ["ours"] = CpuJson(oursCpu, ours, pairSize), ["bare"] = CpuJson(bareCpu, bare, pairSize) },
    });
}
var bestLayout = sustained.MaxBy(s => s.Value).Key;
if (large > 0)
{
    // A stream that keeps at most --large-window jobs unfinished (a new one as soon as one ends), on both sides; 0 submits
    // all at once, as the pairs do. Azurite keeps every queue message of an account in one collection and re-sorts its
    // indexes on every queue operation, so a burst's waiting start messages make every dequeue and delete of the run
    // dearer (Azure Queue storage has no such cost); with 2,000 jobs waiting that cost, not the jobs, would set the pace.
    double seconds;
    CpuPerJob oursCpu;
    await using (var emulators = await Emulators.StartAsync(bestLayout))
    {
        var cpu = new CpuMeter(emulators);
        seconds = (await ThroughputAsync(emulators, large, largeWindow, cpu.Start)).Seconds;
        oursCpu = cpu.PerJob(large);
    }
    Console.WriteLine($"throughput {bestLayout}, {large} jobs (window {largeWindow}): {seconds:F1} s");
    // The bare engine at the same size, once: on this emulator the engine's own cost per job grows with the jobs run.
    double? bareSeconds = null;
    CpuPerJob? bareCpu = null;
    if (!Flag("--no-large-bare"))
    {
        await using var emulators = await Emulators.StartAsync(bestLayout);
        var cpu = new CpuMeter(emulators);
        bareSeconds = await BareEngine.RunAsync(emulators.DurableConnection, large, Steps, hostSettings, measuring: cpu.Start, window: largeWindow, runWarmup: runWarmup);
        bareCpu = cpu.PerJob(large);
        Console.WriteLine($"throughput {bestLayout}, {large} jobs (window {largeWindow}), bare engine: {bareSeconds:F1} s");
    }
    throughput.Add(new JsonObject
    {
        ["layout"] = bestLayout,
        ["jobs"] = large,
        ["window"] = largeWindow,
        ["pairs"] = bareSeconds is null ? 0 : 1,
        ["seconds"] = Math.Round(seconds, 2),
        ["jobsPerSecond"] = Math.Round(large / seconds, 2),
        ["stepsPerSecond"] = Math.Round(large * Steps / seconds, 1),
    });
    if (bareSeconds is { } bareLarge)
    {
        throughput[^1]!["bareSeconds"] = Math.Round(bareLarge, 2);
        throughput[^1]!["bareJobsPerSecond"] = Math.Round(large / bareLarge, 2);
        throughput[^1]!["ratioToBare"] = Math.Round(bareLarge / seconds, 3);
        throughput[^1]!["cpuMsPerJob"] = new JsonObject { ["ours"] = CpuJson([oursCpu], [seconds], large), ["bare"] = CpuJson([bareCpu!], [bareLarge], large) };
    }
}
report["throughput"] = throughput;

// 3. Latency: a stated fraction of the throughput this layout sustained above, on fresh emulators.
await using (var emulators = await Emulators.StartAsync(bestLayout))
await using (var runner = await BenchRunner.StartAsync(repo, emulators.App.ConnectionString, "lat" + Guid.NewGuid().ToString("N")[..6], taskHubConnection: emulators.TaskHub?.ConnectionString))
{
    using var user = runner.Client("bench-user");
    await WaitAsync(user, await CreateAsync(user, new { type = "demo.steps", input = new { steps = 1 } }));
    Console.WriteLine("latency under load");
    report["latency"] = await LatencyAsync(runner, user, bestLayout, loadFraction * sustained[bestLayout]);
    Console.WriteLine("progress visibility");
    report["progressVisibility"] = await ProgressVisibilityAsync(user);
    Console.WriteLine("event stream latency");
    report["streamLatency"] = await StreamLatencyAsync(runner);
}

// 4. Cost per job, on fresh emulators (the app's requests do not depend on the layout).
await using (var emulators = await Emulators.StartAsync("shared"))
await using (var runner = await BenchRunner.StartAsync(repo, emulators.App.ConnectionString, "cost" + Guid.NewGuid().ToString("N")[..6]))
{
    using var user = runner.Client("bench-user");
    await WaitAsync(user, await CreateAsync(user, new { type = "demo.steps", input = new { steps = 1 } }));
    Console.WriteLine("cost per job");
    report["cost"] = await CostAsync(runner, user);
}

// 5. The stall: a new runner and task hub on the emulator a throughput run just used, as the bench used to do.
if (!Flag("--no-stall-check"))
{
    Console.WriteLine("stall check");
    report["stallCheck"] = await StallCheckAsync(Math.Min(pairSize, 300), loadFraction * sustained.GetValueOrDefault("shared", sustained[bestLayout]));
}

// 6. Scale of listings.
report["scale"] = await ScaleAllAsync();
report["totalSeconds"] = Math.Round(clock.Elapsed.TotalSeconds, 0);

var raw = Path.Combine(repo, "bench", "results", "benchmarks.json");
Directory.CreateDirectory(Path.GetDirectoryName(raw)!);
await File.WriteAllTextAsync(raw, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
await File.WriteAllTextAsync(output, Markdown.Render(report, await ReadOptional(Path.Combine(repo, "bench", "ANALYSIS.md"))));
await RenderSavedSectionsAsync();
Console.WriteLine($"wrote {output} and {raw} in {clock.Elapsed.TotalSeconds:F0} s");
return;

static JsonObject CpuJson(IReadOnlyList<CpuPerJob> runs, IReadOnlyList<double> seconds, int jobs) => new()
{
    ["emulators"] = Math.Round(Median([.. runs.Select(c => c.Emulators)]), 1),
    ["taskHubEmulator"] = Math.Round(Median([.. runs.Select(c => c.TaskHub)]), 1),
    ["process"] = Math.Round(Median([.. runs.Select(c => c.Process)]), 1),
    // The part of the process's CPU the JIT compiler spent during the measured jobs (code reaching a higher tier).
    ["jit"] = Math.Round(Median([.. runs.Select(c => c.Jit)]), 1),
    ["total"] = Math.Round(Median([.. runs.Select(c => c.Total)]), 1),
    // CPU used / (cores × seconds): how much of the machine the run kept busy.
    ["machineBusy"] = Math.Round(Median([.. runs.Zip(seconds, (c, s) => c.Total * jobs / 1000 / (s * Environment.ProcessorCount))]), 3),
};

static JsonObject KindsJson(IReadOnlyDictionary<string, double> kinds) =>
    new(kinds.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => KeyValuePair.Create(k.Key, (JsonNode?)Math.Round(k.Value, 1))));

static double Median(IReadOnlyList<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

async Task<RunResult> ThroughputAsync(Emulators emulators, int n, int window = 0, Action? measuring = null)
{
    await using var runner = await BenchRunner.StartAsync(repo, emulators.App.ConnectionString, "tp" + Guid.NewGuid().ToString("N")[..6],
        taskHubConnection: emulators.TaskHub?.ConnectionString);
    return await RunJobsAsync(runner, n, window, measuring);
}

async Task<RunResult> RunJobsAsync(BenchRunner runner, int n, int window = 0, Action? measuring = null)
{
    using var user = runner.Client("bench-tp");
    // This runner's own warm-up, unmeasured: its first jobs pay for the host's start (the DI container's compiled
    // resolvers, the endpoints, the first connections, code reaching its optimised tier), which a host that has run
    // for a while has long paid. The bare engine's runs do the same (BareEngine.RunAsync).
    var warmUps = new HashSet<string>(StringComparer.Ordinal);
    foreach (var batch in Enumerable.Range(0, runWarmup).Chunk(16))
    {
        var made = await Task.WhenAll(batch.Select(_ => CreateAsync(user, new { type = "demo.steps", input = new { steps = Steps } })));
        await Task.WhenAll(made.Select(id => WaitAsync(user, id)));
        warmUps.UnionWith(made);
    }
    var events = runner.Storage.EventsQueue;
    await events.ClearMessagesAsync();
    var ids = new ConcurrentDictionary<string, bool>();
    using var slots = new SemaphoreSlim(window > 0 ? window : n);
    runner.DurableRequests.Reset();
    runner.AppRequests.Reset();
    measuring?.Invoke();
    var sw = Stopwatch.StartNew();
    var submitting = Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, ct) =>
    {
        await slots.WaitAsync(ct);
        ids[await CreateAsync(user, new { type = "demo.steps", input = new { steps = Steps } })] = false; // not yet seen ending
    });
    var ended = 0;
    while (ended < n)
    {
        if (submitting.IsFaulted)
        {
            await submitting; // a failed create ends the run with its error, not a wait for endings that never come
        }
        var batch = (await events.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value;
        foreach (var message in batch)
        {
            // An ending can be seen before its create's answer has put the id in `ids`: wait for it. The only other
            // jobs here are the warm-up's, whose events can come after the clear above.
            var jobId = (string)JsonNode.Parse(message.Body.ToString())!["subject"]!; // a CloudEvent: subject = the job id
            while (!warmUps.Contains(jobId) && !ids.ContainsKey(jobId) && !submitting.IsCompleted)
            {
                await Task.Delay(5);
            }
            // job-events is at-least-once: an ending published twice counts once.
            if (ids.TryUpdate(jobId, true, false))
            {
                ended++;
                slots.Release();
            }
            await events.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }
        if (batch.Length == 0)
        {
            await Task.Delay(100);
        }
    }
    await submitting;
    var seconds = sw.Elapsed.TotalSeconds;
    return new RunResult(seconds, PerJob(runner.DurableRequests.Snapshot()), PerJob(runner.AppRequests.Snapshot()));
    Dictionary<string, double> PerJob(IReadOnlyDictionary<string, long> counts) => counts.ToDictionary(k => k.Key, k => k.Value / (double)n);
}

// The sections other modes measure (each from its own file under bench/results), put back into a freshly rendered report.
async Task RenderSavedSectionsAsync()
{
    await Soak.RenderSavedAsync(repo, output);
    await TwoInstanceSoak.RenderSavedAsync(repo, output);
    await WebhookBench.RenderSavedAsync(repo, output);
    await LimitsBench.RenderSavedAsync(repo, output);
    await EmulatorCosts.RenderSavedAsync(repo, output);
}

async Task<JsonObject> LatencyAsync(BenchRunner runner, HttpClient user, string layout, double postsPerSecond, int seconds = 20)
{
    // An open-loop load: POSTs at a fixed rate (a fraction of the throughput this setup sustains, not saturation),
    // and status GETs at 50/s, each request on its own schedule whatever the others do.
    var existing = new List<string>();
    for (var i = 0; i < 20; i++)
    {
        existing.Add(await CreateAsync(user, new { type = "demo.steps", input = new { steps = 1 } }));
    }
    var storedAtStart = existing.Count + 1;
    var posts = new ConcurrentBag<double>();
    var gets = new ConcurrentBag<double>();
    const double GetsPerSecond = 50;
    var start = Stopwatch.StartNew();
    async Task Paced(double rate, Func<int, Task> request)
    {
        var calls = new List<Task>();
        for (var i = 0; i < rate * seconds; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            if (due > start.Elapsed)
            {
                await Task.Delay(due - start.Elapsed);
            }
            calls.Add(request(i));
        }
        await Task.WhenAll(calls);
    }
    await Task.WhenAll(
        Paced(postsPerSecond, async _ =>
        {
            var sw = Stopwatch.StartNew();
            await CreateAsync(user, new { type = "demo.steps", input = new { steps = 1 } });
            posts.Add(sw.Elapsed.TotalMilliseconds);
        }),
        Paced(GetsPerSecond, async i =>
        {
            var sw = Stopwatch.StartNew();
            using var response = await user.GetAsync($"/api/jobs/{existing[i % existing.Count]}/status");
            response.EnsureSuccessStatusCode();
            gets.Add(sw.Elapsed.TotalMilliseconds);
        }));
    return new JsonObject
    {
        ["layout"] = layout,
        ["seconds"] = seconds,
        ["load"] = $"POST /api/jobs at {postsPerSecond:F1}/s ({loadFraction:P0} of the {layout} layout's sustained {postsPerSecond / loadFraction:F1} jobs/s) and GET /status at {GetsPerSecond:F0}/s, open loop; the created jobs run meanwhile",
        ["jobsStoredAtStart"] = storedAtStart,
        ["jobsStoredAtEnd"] = storedAtStart + posts.Count,
        ["post"] = Json(Percentiles.Of(posts)),
        ["postPerSecond"] = Math.Round(posts.Count / (double)seconds, 1),
        ["getStatus"] = Json(Percentiles.Of(gets)),
        ["getStatusPerSecond"] = Math.Round(gets.Count / (double)seconds, 1),
    };
}

async Task<JsonObject> StallCheckAsync(int jobs, double postsPerSecond)
{
    // The way the bench used to run: a throughput run, then at once a new runner (a new task hub) on the same emulator.
    // Sample the emulator's CPU each second and time POSTs under the same open-loop load as the latency phase.
    await using var emulators = await Emulators.StartAsync("shared");
    await using (var first = await BenchRunner.StartAsync(repo, emulators.App.ConnectionString, "st1" + Guid.NewGuid().ToString("N")[..6]))
    {
        await RunJobsAsync(first, jobs);
    }
    await using var second = await BenchRunner.StartAsync(repo, emulators.App.ConnectionString, "st2" + Guid.NewGuid().ToString("N")[..6]);
    using var user = second.Client("bench-user");
    var cpu = new JsonArray();
    using var sampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        var last = emulators.CpuSeconds();
        while (!sampling.IsCancellationRequested)
        {
            await Task.Delay(1000);
            var now = emulators.CpuSeconds();
            cpu.Add(Math.Round((now - last) * 100));
            last = now;
        }
    });
    var latency = await LatencyAsync(second, user, "shared (after a throughput run on the same emulator)", postsPerSecond);
    await sampling.CancelAsync();
    await sampler;
    return new JsonObject
    {
        ["afterJobs"] = jobs,
        ["azuriteCpuPercentPerSecond"] = cpu,
        ["post"] = latency["post"]!.DeepClone(),
        ["getStatus"] = latency["getStatus"]!.DeepClone(),
    };
}

async Task<JsonObject> ProgressVisibilityAsync(HttpClient user)
{
    // The server stamps updatedAt when it stores a report; a poller at 20 Hz notes when it first sees it.
    var delays = new ConcurrentBag<double>();
    await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
    {
        var id = await CreateAsync(user, new { type = "demo.steps", input = new { steps = 2, delayMs = 2000 } });
        var lastSeen = "";
        while (true)
        {
            var status = JsonNode.Parse(await user.GetStringAsync($"/api/jobs/{id}/status"))!;
            var seenAt = DateTimeOffset.UtcNow;
            var updatedAt = (string)status["updatedAt"]!;
            if (updatedAt != lastSeen && (string?)status["status"] == "running")
            {
                delays.Add((seenAt - DateTimeOffset.Parse(updatedAt, CultureInfo.InvariantCulture)).TotalMilliseconds);
                lastSeen = updatedAt;
            }
            if ((string?)status["status"] is "completed" or "failed")
            {
                break;
            }
            await Task.Delay(50);
        }
    }));
    return Json(Percentiles.Of(delays));
}

async Task<JsonObject> StreamLatencyAsync(BenchRunner runner)
{
    // Eight jobs, each watched over GET /events through Jobs.Client (which resumes after the server's timed closes). A
    // status event is timed from the record's updatedAt (when the server stored it); a log line from its own timestamp
    // (when the handler logged it), so the line's figure includes the reporter's batching (≤ 250 ms) and the stream's
    // 300-ms settle. Jobs are created raw, as everywhere in the bench: the client's idempotency key would add a write.
    // Each job is watched by a different person (a caller may hold 5 streams at once).
    var status = new ConcurrentBag<double>();
    var lines = new ConcurrentBag<double>();
    await Task.WhenAll(Enumerable.Range(0, 8).Select(async watcher =>
    {
        using var user = runner.Client($"watcher-{watcher}");
        var client = new Jobs.Client.JobsClient(user);
        var id = await CreateAsync(user, new { type = "demo.steps", input = new { steps = 3, delayMs = 2000 } });
        await foreach (var e in client.WatchAsync(id))
        {
            var now = DateTimeOffset.UtcNow;
            if (e.Line is { } line)
            {
                lines.Add((now - line.Timestamp).TotalMilliseconds);
            }
            else if (e.Status is { Status: Jobs.Client.JobState.Running } running && !e.IsEnd)
            {
                status.Add((now - running.UpdatedAt).TotalMilliseconds);
            }
        }
    }));
    return new JsonObject { ["status"] = Json(Percentiles.Of(status)), ["log"] = Json(Percentiles.Of(lines)) };
}

async Task<JsonObject> CostAsync(BenchRunner runner, HttpClient user)
{
    const int Jobs = 20;
    runner.AppRequests.Reset();
    runner.DurableRequests.Reset();
    var idle = Stopwatch.StartNew();
    var ids = new List<string>();
    for (var i = 0; i < Jobs; i++)
    {
        ids.Add(await CreateAsync(user, new { type = "demo.steps", input = new { steps = Steps } }));
    }
    foreach (var id in ids)
    {
        // Waits on the durable client (the task hub's requests, counted apart): nothing reads the app's storage.
        await runner.Durable.WaitForInstanceCompletionAsync(id);
    }
    var noPolls = (App: runner.AppRequests.Snapshot(), Durable: runner.DurableRequests.Snapshot(), Seconds: idle.Elapsed.TotalSeconds);

    runner.AppRequests.Reset();
    runner.DurableRequests.Reset();
    var polls = 0;
    var timed = Stopwatch.StartNew();
    var polled = new List<string>();
    for (var i = 0; i < Jobs; i++)
    {
        polled.Add(await CreateAsync(user, new { type = "demo.steps", input = new { steps = Steps, delayMs = 1000 } }));
    }
    await Task.WhenAll(polled.Select(async id =>
    {
        while (true)
        {
            Interlocked.Increment(ref polls);
            var status = (string?)JsonNode.Parse(await user.GetStringAsync($"/api/jobs/{id}/status"))!["status"];
            if (status is "completed" or "failed")
            {
                return;
            }
            await Task.Delay(1000);
        }
    }));
    var withPolls = (App: runner.AppRequests.Snapshot(), Durable: runner.DurableRequests.Snapshot(), Seconds: timed.Elapsed.TotalSeconds);

    JsonObject PerJob(IReadOnlyDictionary<string, long> counts) =>
        new(counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => KeyValuePair.Create(c.Key, (JsonNode?)Math.Round(c.Value / (double)Jobs, 1))));
    return new JsonObject
    {
        ["jobs"] = Jobs,
        ["steps"] = Steps,
        ["noPolling"] = new JsonObject
        {
            ["seconds"] = Math.Round(noPolls.Seconds, 1),
            ["appPerJob"] = PerJob(noPolls.App),
            ["durablePerJob"] = PerJob(noPolls.Durable),
            ["appTotalPerJob"] = Math.Round(noPolls.App.Values.Sum() / (double)Jobs, 1),
            ["durableTotalPerJob"] = Math.Round(noPolls.Durable.Values.Sum() / (double)Jobs, 1),
        },
        ["pollingEverySecond"] = new JsonObject
        {
            ["stepDelayMs"] = 1000,
            ["seconds"] = Math.Round(withPolls.Seconds, 1),
            ["pollsPerJob"] = Math.Round(polls / (double)Jobs, 1),
            ["appPerJob"] = PerJob(withPolls.App),
            ["durablePerJob"] = PerJob(withPolls.Durable),
            ["appTotalPerJob"] = Math.Round(withPolls.App.Values.Sum() / (double)Jobs, 1),
            ["durableTotalPerJob"] = Math.Round(withPolls.Durable.Values.Sum() / (double)Jobs, 1),
        },
    };
}

async Task<JsonArray> ScaleAllAsync()
{
    var scale = new JsonArray();
    foreach (var size in scaleSizes)
    {
        Console.WriteLine($"scale: {size} jobs");
        await using var emulators = await Emulators.StartAsync("shared");
        scale.Add(await ScaleAsync(emulators.App.ConnectionString, size));
    }
    return scale;
}

async Task<JsonObject> ScaleAsync(string connection, int size)
{
    var prefix = "sc" + Guid.NewGuid().ToString("N")[..6];
    await using var runner = await BenchRunner.StartAsync(repo, connection, prefix);
    var table = runner.Storage.JobsTable;
    // Listings read index rows only, so the seed writes exactly those (one job in 100 failed), in batches, and the
    // overview the roll-up rows: the jobs are spread evenly over the last week (the overview's longest range), each
    // queued 50 ms and run 150 ms.
    var seed = Stopwatch.StartNew();
    var start = DateTimeOffset.UtcNow.AddDays(-7);
    var spacingMs = TimeSpan.FromDays(7).TotalMilliseconds / size;
    var random = new Random(42);
    var jobs = Enumerable.Range(0, size).Select(i => new Job
    {
        Id = Guid.NewGuid().ToString("N"),
        Type = "demo.steps",
        Status = random.Next(100) == 0 ? JobStatus.Failed : JobStatus.Completed,
        Owner = "scale-owner",
        CreatedAt = start.AddMilliseconds(i * spacingMs),
        StartedAt = start.AddMilliseconds(i * spacingMs + 50),
        CompletedAt = start.AddMilliseconds(i * spacingMs + 200),
        UpdatedAt = start.AddMilliseconds(i * spacingMs + 200),
    }).ToList();
    // Each job's rows in the partitions the runner's layout gives them (the all-jobs bucket, the owner's), a batch per
    // partition of at most 100.
    var batches = jobs.SelectMany(j => runner.Layout.PartitionsOf(j).SelectMany(partition => JobIndexEntity.Rows(j, partition, j.UpdatedAt)))
        .GroupBy(row => row.PartitionKey).SelectMany(partition => partition.Chunk(100));
    await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (chunk, ct) =>
        await table.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)), ct));
    // The counts as the aggregator leaves them: each partition's counter, then one aggregator run (as the reconciler
    // makes every minute) writes the all-jobs sum an admin's total reads.
    foreach (var partition in jobs.SelectMany(j => runner.Layout.PartitionsOf(j).Select(p => (Partition: p, Job: j))).GroupBy(x => x.Partition))
    {
        var counts = partition.GroupBy(x => new CountKey(null, x.Job.Type, x.Job.Status)).ToDictionary(g => g.Key, g => (long)g.Count());
        await table.UpsertEntityAsync(JobCounters.CounterRow(partition.Key, counts), TableUpdateMode.Replace);
    }
    await runner.Counters.FoldAsync(CancellationToken.None);
    var seedSeconds = seed.Elapsed.TotalSeconds;
    var metricsSeed = Stopwatch.StartNew();
    var metricRows = await OverviewScale.SeedMetricsAsync(runner.Storage.MetricsTable, runner.Layout, jobs);
    var metricsSeedSeconds = metricsSeed.Elapsed.TotalSeconds;

    using var admin = runner.Client("scale-admin", "admin");
    using var owner = runner.Client("scale-owner");
    async Task<JsonObject> MeasureAsync(string name, HttpClient client, string url, int runs = 3)
    {
        var times = new List<double>();
        long requests = 0;
        var count = 0;
        long? total = null;
        for (var i = 0; i < runs; i++)
        {
            runner.AppRequests.Reset();
            var sw = Stopwatch.StartNew();
            var page = JsonNode.Parse(await client.GetStringAsync(url))!;
            times.Add(sw.Elapsed.TotalMilliseconds);
            requests = runner.AppRequests.Snapshot().Values.Sum();
            count = page["jobs"]!.AsArray().Count;
            total = (long?)page["pagination"]!["total"];
        }
        return new JsonObject
        {
            ["page"] = name, ["url"] = url, ["jobsReturned"] = count, ["total"] = total, ["storageRequests"] = requests,
            ["medianMs"] = Math.Round(Percentiles.Of(times).P50, 1),
        };
    }

    var pages = new JsonArray
    {
        await MeasureAsync("first page (admin, all jobs)", admin, "/api/jobs?limit=50"),
        await MeasureAsync("first page (owner)", owner, "/api/jobs?limit=50"),
    };
    // A deep page by cursor: the cursor a client holds after 20 pages of 50 (built, not walked, to save time).
    var twentieth = jobs.OrderByDescending(j => j.CreatedAt).ElementAt(999);
    var cursor = new ListCursor(0, TableKeys.IndexRowKey(IndexFamily.CreatedDescending, twentieth.CreatedAt, twentieth.Id))
        .Encode(new JobListQuery { Scope = new JobListScope.All() });
    var url = "/api/jobs?limit=50&next=" + cursor;
    pages.Add(await MeasureAsync("page 21 by cursor (owner)", owner, url));
    pages.Add(await MeasureAsync("offset 5000 (owner)", owner, "/api/jobs?limit=50&offset=5000"));
    pages.Add(await MeasureAsync("filtered: status=failed (owner, 1% of jobs)", owner, "/api/jobs?limit=50&status=failed"));
    pages.Add(await MeasureAsync("ordered: updatedAt asc (owner)", owner, "/api/jobs?limit=50&orderBy=updatedAt&order=asc"));
    pages.Add(await MeasureAsync("ordered: status (owner)", owner, "/api/jobs?limit=50&orderBy=status"));
    return new JsonObject
    {
        ["jobs"] = size,
        ["allIndexBuckets"] = runner.Layout.AllBuckets,
        ["indexRowsInTable"] = size * 8,
        ["seedSeconds"] = Math.Round(seedSeconds, 1),
        ["pages"] = pages,
        ["metricRows"] = metricRows,
        ["metricsSeedSeconds"] = Math.Round(metricsSeedSeconds, 1),
        ["overview"] = await OverviewScale.MeasureAsync(runner, admin, owner),
    };
}

async Task<string> CreateAsync(HttpClient client, object body)
{
    using var response = await client.PostAsJsonAsync("/api/jobs", body);
    response.EnsureSuccessStatusCode();
    return (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!;
}

async Task WaitAsync(HttpClient client, string id, bool poll = true)
{
    while (true)
    {
        var status = (string?)JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/status"))!["status"];
        if (status is "completed" or "failed" or "cancelled" or "timed_out")
        {
            return;
        }
        await Task.Delay(poll ? 100 : 250);
    }
}

static JsonObject Json(Percentiles p) => new()
{
    ["count"] = p.Count,
    ["p50Ms"] = Math.Round(p.P50, 1),
    ["p95Ms"] = Math.Round(p.P95, 1),
    ["p99Ms"] = Math.Round(p.P99, 1),
    ["maxMs"] = Math.Round(p.Max, 1),
};

static async Task<string> ReadOptional(string path) => File.Exists(path) ? await File.ReadAllTextAsync(path) : "";

bool Flag(string name) => args.Contains(name);

string? Arg(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
