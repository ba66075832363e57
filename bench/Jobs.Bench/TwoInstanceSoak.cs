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

namespace Jobs.Bench;

/// <summary>
/// The scale-out soak: two instances of the app (the runner as two child processes) on one storage account, task hub
/// and table — the way Functions scales out — take jobs from both sides; once a share of them has ended, one instance
/// is killed with SIGKILL, holding step messages, orchestration partitions and projections half done. The survivor must
/// end every job once, as its handler decided, and within one reconciler period everything derived must agree with the
/// records: each job listed once with its status, no stale list row, no live-job row left, the totals and the stats.
/// </summary>
public static class TwoInstanceSoak
{
    private const int ReconcilerSeconds = 2;

    public static async Task RunAsync(string repo, string connection, int jobs, string markdownPath)
    {
        Environment.SetEnvironmentVariable("JOBS_TEST_STORAGE", connection); // the runner processes' storage
        var settings = new Dictionary<string, string>
        {
            // A killed worker's messages come back after their visibility timeout (5 minutes by default): the runner's
            // test-only overrides shorten it, as CrashRecoveryTests does.
            ["Jobs__Runner__TestOverrides__WorkItemVisibilityTimeout"] = "00:00:30",
            ["Jobs__Runner__TestOverrides__ControlQueueVisibilityTimeout"] = "00:00:30",
            ["Jobs__Runner__Schedules__SweepTimedOutJobs"] = $"*/{ReconcilerSeconds} * * * * *",
            ["Jobs__Reconciler__GraceSeconds"] = "5",
            ["Jobs__Identity__DevelopmentRoles"] = "admin",
        };
        using var first = new RunnerProcess(_ => { }, settings);
        using var second = new RunnerProcess(first);
        await Task.WhenAll(first.StartAsync(), second.StartAsync());
        Console.WriteLine($"soak-two: {jobs} jobs over two instances; one is killed once a quarter of them has ended");

        var clock = Stopwatch.StartNew();
        var ids = new ConcurrentDictionary<int, string>();
        var createRetries = 0;
        var killed = false;
        var killedAt = 0.0;
        var submit = Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var body = new { type = "demo.steps", input = new { steps = 4, delayMs = 1500, timeoutSeconds = 900 }, idempotencyKey = $"two-{i}" };
            for (var attempt = 1; ; attempt++)
            {
                // Both instances take creates; once one is dead its callers go to the other with the same key.
                var client = !Volatile.Read(ref killed) && (i + attempt) % 2 == 0 ? first.Client : second.Client;
                try
                {
                    using var response = await client.PostAsJsonAsync("/api/jobs", body);
                    if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
                    {
                        ids[i] = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!;
                        return;
                    }
                    if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                    {
                        throw new InvalidOperationException($"create {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                }
                catch (HttpRequestException) when (attempt < 50)
                {
                    // The instance died under this request: whether it took the job or not, the key makes a retry safe.
                }
                Interlocked.Increment(ref createRetries);
                await Task.Delay(200);
            }
        });

        var table = new TableServiceClient(connection).GetTableClient(first.TablePrefix + "Jobs");
        var records = new Dictionary<string, Job>();
        async Task<int> EndedAsync()
        {
            foreach (var id in ids.Values.Where(id => !records.TryGetValue(id, out var known) || !known.Status.IsTerminal()).ToList())
            {
                if (await ReadAsync(table, id) is { } job)
                {
                    records[id] = job;
                }
            }
            return records.Values.Count(j => j.Status.IsTerminal());
        }
        // Killed once a quarter of the jobs has ended (the admins' stats, one cheap read, say how many), while the rest
        // are being created, queued or run on both instances.
        long endedBeforeKill = 0;
        while (clock.Elapsed < TimeSpan.FromMinutes(10))
        {
            var stats = JsonNode.Parse(await second.Client.GetStringAsync("/api/jobs/stats"))!;
            if ((endedBeforeKill = (long)stats["byStatus"]!["completed"]!) >= jobs / 4)
            {
                break;
            }
            await Task.Delay(250);
        }
        await first.KillAsync();
        Volatile.Write(ref killed, true);
        killedAt = clock.Elapsed.TotalSeconds;
        var createdBeforeKill = ids.Count;
        Console.WriteLine($"soak-two: killed the first instance at {killedAt:0.0} s, {endedBeforeKill} jobs ended");
        await submit;
        var created = clock.Elapsed.TotalSeconds;
        var endBy = DateTime.UtcNow.AddMinutes(15);
        while (await EndedAsync() < jobs && DateTime.UtcNow < endBy)
        {
            await Task.Delay(1000);
        }
        var ended = clock.Elapsed.TotalSeconds;

        // Everything derived agrees with the records within one reconciler period: waited for up to a minute.
        Problems problems;
        var settleBy = DateTime.UtcNow.AddMinutes(1);
        do
        {
            await Task.Delay(1000);
            problems = await ProblemsAsync(second.Client, table, ids.Values.ToList());
        }
        while (!problems.None && DateTime.UtcNow < settleBy);
        var settled = clock.Elapsed.TotalSeconds;

        var result = new JsonObject
        {
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            ["jobs"] = jobs,
            ["endedBeforeKill"] = endedBeforeKill,
            ["createdBeforeKill"] = createdBeforeKill,
            ["createRetries"] = createRetries,
            ["stranded"] = records.Values.Count(j => !j.Status.IsTerminal()) + (jobs - records.Count),
            ["wrongOutcome"] = records.Values.Count(j => j.Status != JobStatus.Completed),
            ["outcomes"] = new JsonObject(records.Values.GroupBy(j => j.Status.ToWire()).Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))),
            ["staleListRows"] = problems.Stale.Count,
            ["staleExamples"] = new JsonArray([.. problems.Stale.Take(5).Select(s => (JsonNode?)s)]),
            ["leftInLiveIndex"] = problems.Live,
            ["countMismatches"] = new JsonArray([.. problems.Counts.Select(m => (JsonNode?)m)]),
            ["listedJobs"] = problems.Listed,
            ["duplicateJobs"] = problems.Duplicates,
            ["total"] = problems.Total,
            ["statsTotal"] = problems.StatsTotal,
            ["secondsToKill"] = Math.Round(killedAt, 1),
            ["secondsToCreate"] = Math.Round(created, 1),
            ["secondsToEnd"] = Math.Round(ended, 1),
            ["secondsToSettle"] = Math.Round(settled, 1),
            ["reconcilerSeconds"] = ReconcilerSeconds,
        };
        var json = result.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(json);
        var raw = Path.Combine(repo, "bench", "results", "soak-two.json");
        Directory.CreateDirectory(Path.GetDirectoryName(raw)!);
        await File.WriteAllTextAsync(raw, json + "\n");
        await Soak.WriteSectionAsync(markdownPath, "soak-two", Render(result));
        Console.WriteLine($"wrote {raw} and the two-instance soak section of {markdownPath}");
    }

    /// <summary>Puts the last run's section (bench/results/soak-two.json) back into a freshly rendered report.</summary>
    public static Task RenderSavedAsync(string repo, string markdownPath) => Soak.RenderSavedSectionAsync(repo, markdownPath, "soak-two", Render);

    private sealed record Problems(List<string> Stale, int Live, List<string> Counts, int Listed, int Duplicates, long? Total, long StatsTotal, int Jobs)
    {
        public bool None => Stale.Count == 0 && Live == 0 && Counts.Count == 0 && Listed == Jobs && Duplicates == 0 && Total == Jobs && StatsTotal == Jobs;
    }

    private static async Task<Problems> ProblemsAsync(HttpClient client, TableClient table, IReadOnlyList<string> ids)
    {
        var layout = new IndexLayout(ownerBuckets: 1); // the runner processes' defaults
        var rows = new Dictionary<string, List<TableEntity>>();
        var owner = "process-tester";
        foreach (var partition in layout.PartitionsOf(new JobListScope.All()).Concat(layout.PartitionsOf(new JobListScope.Owner(owner))))
        {
            await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")))
            {
                if (row.GetString("JobId") is { } id)
                {
                    (rows.TryGetValue(id, out var list) ? list : rows[id] = []).Add(row);
                }
            }
        }
        var stale = new List<string>();
        var live = 0;
        var records = new List<Job>();
        foreach (var id in ids)
        {
            var job = (await ReadAsync(table, id))!;
            records.Add(job);
            var mine = rows.GetValueOrDefault(id) ?? [];
            live += mine.Count(row => ProjectionCheck.IsLiveRow(layout, row));
            foreach (var partition in layout.PartitionsOf(job))
            {
                if (ProjectionCheck.ListRowProblem(layout, job, partition, [.. mine.Where(r => r.PartitionKey == partition)]) is { } problem)
                {
                    stale.Add($"{id} ({job.Status.ToWire()}) in {problem}");
                }
            }
        }
        // The admin's view through the API: the listing walked to its end, its total, and the stats.
        var listed = new List<string>();
        long? total = null;
        string? next = "/api/jobs?limit=100";
        while (next is not null)
        {
            var page = JsonNode.Parse(await client.GetStringAsync(next))!;
            total ??= (long?)page["pagination"]!["total"];
            listed.AddRange(page["jobs"]!.AsArray().Select(j => (string)j!["id"]!));
            next = (string?)page["pagination"]!["nextLink"] is { } link ? new Uri(link).PathAndQuery : null;
        }
        var stats = JsonNode.Parse(await client.GetStringAsync("/api/jobs/stats"))!;
        var counts = Enum.GetValues<JobStatus>()
            .Select(status => (Status: status, Counted: (long)stats["byStatus"]![status.ToWire()]!, Records: records.Count(j => j.Status == status)))
            .Where(c => c.Counted != c.Records)
            .Select(c => $"{c.Status.ToWire()}: counted {c.Counted}, records {c.Records}")
            .ToList();
        return new Problems(stale, live, counts, listed.Distinct().Count(), listed.Count - listed.Distinct().Count(), total, (long)stats["total"]!, ids.Count);
    }

    /// <summary>A record read directly, retrying a connection the emulator resets under load.</summary>
    private static async Task<Job?> ReadAsync(TableClient table, string id)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var response = await table.GetEntityIfExistsAsync<JobEntity>(id, TableKeys.RecordRowKey);
                return response.HasValue ? response.Value!.ToJob() : null;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 0 && attempt < 5)
            {
                await Task.Delay(200 * attempt);
            }
        }
    }

    private static string Render(JsonObject r)
    {
        var text = new StringBuilder();
        text.AppendLine("## Scale-out soak: two instances, one killed mid-run");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Run {r["date"]} on {r["machine"]} (`scripts/bench.sh --soak-two {r["jobs"]}`, raw: `bench/results/soak-two.json`).");
        text.AppendLine(CultureInfo.InvariantCulture, $"{r["jobs"]} `demo.steps` jobs (4 steps of 1.5 s) submitted to two runner processes on one storage account, task hub and table; once {r["endedBeforeKill"]} had ended and {r["createdBeforeKill"]} had been created (at {r["secondsToKill"]} s), the first process was killed with SIGKILL. Creates it left unanswered were retried on the survivor with their `Idempotency-Key`. The reconciler runs every {r["reconcilerSeconds"]} s.");
        text.AppendLine();
        text.AppendLine("| measure | value | must be |");
        text.AppendLine("| --- | ---: | ---: |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| creates retried after the kill | {r["createRetries"]} | |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| jobs stranded (not ended) | {r["stranded"]} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| jobs with a wrong outcome (not `completed`) | {r["wrongOutcome"]} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| list scopes (job × partition) with stale or leftover rows | {r["staleListRows"]} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| rows left in the live-job index | {r["leftInLiveIndex"]} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| statuses whose count (the admin's stats) differs from the records | {((JsonArray)r["countMismatches"]!).Count} | 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| `pagination.total` / stats total | {r["total"]} / {r["statsTotal"]} | {r["jobs"]} / {r["jobs"]} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| jobs listed / duplicates | {r["listedJobs"]} / {r["duplicateJobs"]} | {r["jobs"]} / 0 |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| seconds: kill / all created / all ended / derived data agreed | {r["secondsToKill"]} / {r["secondsToCreate"]} / {r["secondsToEnd"]} / {r["secondsToSettle"]} | |");
        return text.ToString();
    }
}
