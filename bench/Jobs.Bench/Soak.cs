using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Bench;

/// <summary>
/// The trust soak: a few hundred jobs while a share of the app's own storage writes fail — half before they are
/// applied, half after (the answer lost) — with the storage client's retries off, so every fault reaches the app.
/// Failed creates are retried with their Idempotency-Key, as a careful client would. Then every job is checked:
/// it must end, end <c>completed</c> (every step of these jobs succeeds), be listed once with its record's status,
/// and be gone from the live-job index.
/// </summary>
public static class Soak
{
    private const string Owner = "soak-user";

    public static async Task RunAsync(string repo, string connection, int jobs, double faultRate, string markdownPath)
    {
        var faults = new StorageFaults();
        var prefix = "soak" + Guid.NewGuid().ToString("N")[..6];
        await using var runner = await BenchRunner.StartAsync(repo, connection, prefix,
            new Dictionary<string, string?>
            {
                ["Jobs:Storage:MaxRetries"] = "0",
                ["Jobs:Runner:Schedules:SweepTimedOutJobs"] = "*/2 * * * * *",
                ["Jobs:Reconciler:GraceSeconds"] = "5",
                ["AzureWebJobs.PurgeOldJobs.Disabled"] = "true",
            },
            services => services.AddSingleton(new StoragePipelinePolicy(faults, Azure.Core.HttpPipelinePosition.PerRetry)),
            timers: true);
        using var client = runner.Client(Owner);
        using (var warm = await client.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", input = new { steps = 1 } }))
        {
            warm.EnsureSuccessStatusCode();
        }
        var warmId = (string)JsonNode.Parse(await (await client.GetAsync("/api/jobs?limit=1")).Content.ReadAsStringAsync())!["jobs"]![0]!["id"]!;

        var tables = new[] { prefix + "Jobs", prefix + "JobMetrics" };
        faults.FailRandomly(r => r.Method is "PUT" or "POST" or "MERGE" or "DELETE"
            && (tables.Any(t => r.Path.Contains("/" + t, StringComparison.Ordinal)) || r.Path.EndsWith("/$batch", StringComparison.Ordinal) || r.Path.Contains("/job-events/", StringComparison.Ordinal)),
            faultRate, seed: 20261124);

        Console.WriteLine($"soak: {jobs} jobs, {faultRate:P0} of the app's writes failing");
        var clock = Stopwatch.StartNew();
        var ids = new ConcurrentDictionary<int, string>();
        var createRetries = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var body = new { type = "demo.steps", input = new { steps = 3, delayMs = 300, timeoutSeconds = 600 }, idempotencyKey = $"soak-{i}" };
            for (var attempt = 1; ; attempt++)
            {
                using var response = await client.PostAsJsonAsync("/api/jobs", body);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    ids[i] = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!;
                    return;
                }
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 50)
                {
                    throw new InvalidOperationException($"create {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                Interlocked.Increment(ref createRetries);
                await Task.Delay(200);
            }
        });
        var created = clock.Elapsed.TotalSeconds;

        // Wait (bounded) for every job to end, reading records directly (reads are not faulted).
        var records = new Dictionary<string, Job>();
        var endBy = DateTime.UtcNow.AddMinutes(10);
        while (DateTime.UtcNow < endBy)
        {
            foreach (var id in ids.Values.Where(id => !records.TryGetValue(id, out var known) || !known.Status.IsTerminal()))
            {
                records[id] = await ReadRecordAsync(runner, id);
            }
            if (records.Values.All(j => j.Status.IsTerminal()))
            {
                break;
            }
            await Task.Delay(1000);
        }
        var ended = clock.Elapsed.TotalSeconds;
        var injected = faults.Injected;
        faults.Clear();

        // Projections settle after the ending (a faulted list-row write is healed by the next write or the reconciler).
        string[] stale = [];
        int live = 0;
        var settleBy = DateTime.UtcNow.AddMinutes(2);
        do
        {
            await Task.Delay(2000);
            (stale, live) = await ProjectionProblemsAsync(runner, ids.Values.Append(warmId).ToList());
        }
        while ((stale.Length > 0 || live > 0) && DateTime.UtcNow < settleBy);
        var settled = clock.Elapsed.TotalSeconds;

        foreach (var id in ids.Values)
        {
            records[id] = await ReadRecordAsync(runner, id);
        }
        var listed = await ListedIdsAsync(client);
        // The owner's counts (count rows written in the list-row transactions) against the records, status by status.
        var counts = await runner.Counters.ReadAsync(new JobListScope.Owner(Owner), CancellationToken.None);
        var counted = records.Values.Append(await ReadRecordAsync(runner, warmId)).ToList();
        var countMismatches = Enum.GetValues<JobStatus>()
            .Select(status => (Status: status, Counted: counts.Total(new HashSet<JobStatus> { status }, new HashSet<string>()), Records: counted.Count(j => j.Status == status)))
            .Where(c => c.Counted != c.Records)
            .Select(c => $"{c.Status.ToWire()}: counted {c.Counted}, records {c.Records}")
            .ToList();
        var result = new JsonObject
        {
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            ["jobs"] = jobs,
            ["faultRate"] = faultRate,
            ["faultsInjected"] = injected,
            ["createRetries"] = createRetries,
            ["stranded"] = records.Values.Count(j => !j.Status.IsTerminal()),
            ["wrongOutcome"] = records.Values.Count(j => j.Status != JobStatus.Completed),
            ["outcomes"] = new JsonObject(records.Values.GroupBy(j => j.Status.ToWire()).Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))),
            ["extraHandlerAttempts"] = records.Values.Sum(j => Math.Max(0, j.TotalAttempts - 3)),
            ["staleListRows"] = stale.Length,
            ["staleExamples"] = new JsonArray([.. stale.Take(5).Select(s => (JsonNode?)s)]),
            ["wrongOutcomeExamples"] = new JsonArray([.. records.Values.Where(j => j.Status != JobStatus.Completed).Take(5).Select(j => (JsonNode?)new JsonObject
            {
                ["id"] = j.Id, ["status"] = j.Status.ToWire(), ["message"] = j.Message, ["step"] = j.Step, ["attempt"] = j.Attempt,
                ["totalAttempts"] = j.TotalAttempts, ["createdAt"] = j.CreatedAt, ["startedAt"] = j.StartedAt, ["completedAt"] = j.CompletedAt,
                ["error"] = j.Error?.Message,
            })]),
            ["leftInLiveIndex"] = live,
            ["countMismatches"] = new JsonArray([.. countMismatches.Select(m => (JsonNode?)m)]),
            ["ownerIndexBuckets"] = runner.Layout.OwnerBuckets,
            ["listedJobs"] = listed.Count - 1, // minus the warm-up job
            ["duplicateJobs"] = listed.Count - 1 - ids.Values.Distinct().Count(),
            ["secondsToCreate"] = Math.Round(created, 1),
            ["secondsToEnd"] = Math.Round(ended, 1),
            ["secondsToSettle"] = Math.Round(settled, 1),
        };
        var json = result.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(json);
        var raw = Path.Combine(repo, "bench", "results", "soak.json");
        Directory.CreateDirectory(Path.GetDirectoryName(raw)!);
        await File.WriteAllTextAsync(raw, json + "\n");
        await WriteSectionAsync(markdownPath, "soak", Render(result));
        Console.WriteLine($"wrote {raw} and the soak section of {markdownPath}");
    }

    /// <summary>
    /// The soak's own read of a record. The runner's clients have their retries off (the faults are the test), so a
    /// connection the emulator resets under this load (seen once: "Connection reset by peer" on a pooled connection)
    /// would end the measurement itself; the harness retries its reads, the service under test does not.
    /// </summary>
    private static async Task<Job> ReadRecordAsync(BenchRunner runner, string id)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await runner.Store.GetAsync(id, CancellationToken.None))!;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 0 && attempt < 5)
            {
                await Task.Delay(200 * attempt);
            }
        }
    }

    /// <summary>Puts the last soak's section (bench/results/soak.json) back into a freshly rendered report.</summary>
    public static Task RenderSavedAsync(string repo, string markdownPath) => RenderSavedSectionAsync(repo, markdownPath, "soak", Render);

    /// <summary>
    /// Puts a mode's last saved run (<c>bench/results/{name}.json</c>, if there is one) back into the report as its
    /// <paramref name="name"/> section, rendered by <paramref name="render"/>.
    /// </summary>
    internal static async Task RenderSavedSectionAsync(string repo, string markdownPath, string name, Func<JsonObject, string> render)
    {
        var raw = Path.Combine(repo, "bench", "results", name + ".json");
        if (File.Exists(raw))
        {
            await WriteSectionAsync(markdownPath, name, render(JsonNode.Parse(await File.ReadAllTextAsync(raw))!.AsObject()));
        }
    }

    /// <summary>Jobs whose list rows disagree with their record (or are left over from earlier changes), and live-index rows left.</summary>
    private static async Task<(string[] Stale, int Live)> ProjectionProblemsAsync(BenchRunner runner, IReadOnlyCollection<string> ids)
    {
        var table = runner.Storage.JobsTable;
        var rows = new Dictionary<string, List<TableEntity>>();
        foreach (var partition in runner.Layout.PartitionsOf(new JobListScope.All()).Concat(runner.Layout.PartitionsOf(new JobListScope.Owner(Owner))))
        {
            await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")))
            {
                if (row.GetString("JobId") is not { } id)
                {
                    continue; // a count row (JobCounters): of the scope, not of a job
                }
                (rows.TryGetValue(id, out var list) ? list : rows[id] = []).Add(row);
            }
        }
        var stale = new List<string>();
        var live = 0;
        foreach (var id in ids)
        {
            var job = await ReadRecordAsync(runner, id);
            var mine = rows.GetValueOrDefault(id) ?? [];
            live += mine.Count(row => ProjectionCheck.IsLiveRow(runner.Layout, row));
            foreach (var partition in runner.Layout.PartitionsOf(job))
            {
                if (ProjectionCheck.ListRowProblem(runner.Layout, job, partition, [.. mine.Where(r => r.PartitionKey == partition)]) is { } problem)
                {
                    stale.Add($"{id} ({job.Status.ToWire()}) in {problem}");
                }
            }
        }
        return ([.. stale], live);
    }

    private static async Task<HashSet<string>> ListedIdsAsync(HttpClient client)
    {
        var ids = new HashSet<string>();
        string? next = "/api/jobs?limit=100";
        while (next is not null)
        {
            var page = JsonNode.Parse(await client.GetStringAsync(next))!;
            foreach (var job in page["jobs"]!.AsArray())
            {
                ids.Add((string)job!["id"]!);
            }
            next = (string?)page["pagination"]!["nextLink"] is { } link ? new Uri(link).PathAndQuery : null;
        }
        return ids;
    }

    private static string Render(JsonObject r)
    {
        var text = new StringBuilder();
        text.AppendLine("## Trust soak: jobs under injected storage faults");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Run {r["date"]} on {r["machine"]} (`scripts/bench.sh --soak {r["jobs"]}`, raw: `bench/results/soak.json`).");
        text.AppendLine(CultureInfo.InvariantCulture, $"{r["jobs"]} `demo.steps` jobs (3 steps of 300 ms) while {(double)r["faultRate"]! * 100:F0}% of the app's own writes (`Jobs` records and log lines, list-row batches, `job-events`) failed, half before being applied and half after (answer lost), with the storage client's retries off. Creates answered 503 were retried with their `Idempotency-Key`.");
        if (r["ownerIndexBuckets"] is JsonValue buckets && buckets.GetValue<int>() > 1)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"The owner's list rows were spread over {buckets} buckets (`Jobs__Storage__OwnerIndexBuckets`).");
        }
        text.AppendLine();
        text.AppendLine("| measure | value | must be |");
        text.AppendLine("| --- | ---: | ---: |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| faults injected | {r["faultsInjected"]} | |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| creates answered 503 and retried | {r["createRetries"]} | |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| jobs stranded (not ended) | {r["stranded"]} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| jobs with a wrong outcome (not `completed`) | {r["wrongOutcome"]} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| list scopes (job × partition) with stale or leftover rows | {r["staleListRows"]} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| rows left in the live-job index | {r["leftInLiveIndex"]} | 0 |");
        if (r["countMismatches"] is JsonArray mismatches)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| statuses whose count (the owner's totals) differs from the records | {mismatches.Count} | 0 |");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"| duplicate jobs (listed beyond one per key) | {r["duplicateJobs"]} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| handler attempts charged for bookkeeping faults | {r["extraHandlerAttempts"]} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| seconds: all created / all ended / projections settled | {r["secondsToCreate"]} / {r["secondsToEnd"]} / {r["secondsToSettle"]} | |");
        return text.ToString();
    }

    /// <summary>Replaces (or appends) the report's section between <c>&lt;!-- {name}:start --&gt;</c> and <c>&lt;!-- {name}:end --&gt;</c>.</summary>
    internal static async Task WriteSectionAsync(string path, string name, string section)
    {
        var Start = $"<!-- {name}:start -->";
        var End = $"<!-- {name}:end -->";
        var text = File.Exists(path) ? await File.ReadAllTextAsync(path) : "";
        var block = $"{Start}\n{section}{End}\n";
        var from = text.IndexOf(Start, StringComparison.Ordinal);
        var to = text.IndexOf(End, StringComparison.Ordinal);
        text = from >= 0 && to > from
            ? text[..from] + block + text[(to + End.Length)..].TrimStart('\n')
            : text.TrimEnd() + "\n\n" + block;
        await File.WriteAllTextAsync(path, text);
    }
}
