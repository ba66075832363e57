using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Metrics;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Bench;

/// <summary>
/// The scale phase's overview (issue 28): the roll-up rows the seeded jobs would have left, and the dashboard home's
/// four API calls (<c>/jobs/stats</c> and <c>/metrics</c> for the last hour, day and week, as app.js's overviewView
/// makes them) timed and counted at that size, as an admin and as an owner.
/// </summary>
public static class OverviewScale
{
    /// <summary>Reads of each call (and of the whole refresh); the median is reported.</summary>
    private const int Runs = 5;

    /// <summary>
    /// The minute and hour roll-up rows the aggregator would have written for <paramref name="jobs"/> (created, started
    /// and ended facts, <see cref="MetricFact.Of"/>), in each list partition of each job, written directly in batches to
    /// <paramref name="table"/> (the metrics table). Their <c>FoldSeq</c> is 0, as is that of the seeded counters: the next
    /// fold of a partition is its first. Returns the number of rows.
    /// </summary>
    public static async Task<int> SeedMetricsAsync(TableClient table, IndexLayout layout, IReadOnlyList<Job> jobs)
    {
        var rows = new Dictionary<(string Partition, string RowKey), MetricRow>();
        foreach (var job in jobs)
        {
            var facts = MetricFact.Of(null, job.Status, job.CreatedAt, job.StartedAt, job.CompletedAt);
            foreach (var partition in layout.PartitionsOf(job))
            {
                foreach (var fact in facts)
                {
                    foreach (var key in MetricRow.KeysOf(fact))
                    {
                        if (!rows.TryGetValue((partition, key), out var row))
                        {
                            rows[(partition, key)] = row = MetricRow.Empty(key);
                        }
                        row.Apply(job.Type, fact);
                    }
                }
            }
        }
        var batches = rows.GroupBy(r => r.Key.Partition).SelectMany(p => p.Select(r => r.Value.ToAction(p.Key)).Chunk(100));
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (chunk, ct) =>
            await table.SubmitTransactionAsync(chunk, ct));
        return rows.Count;
    }

    /// <summary>The overview's calls, each read <see cref="Runs"/> times, then the refresh as the page makes it (all four at once).</summary>
    public static async Task<JsonArray> MeasureAsync(BenchRunner runner, HttpClient admin, HttpClient owner)
    {
        var calls = new JsonArray();
        foreach (var (who, client) in new[] { ("admin", admin), ("owner", owner) })
        {
            // The page's parameters (app.js `ranges`): from = now − (slots − 1) × step, no `to`.
            var now = DateTimeOffset.UtcNow;
            string Range(string interval, int slots, TimeSpan step) =>
                $"/api/metrics?interval={interval}&from={Uri.EscapeDataString((now - (slots - 1) * step).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture))}";
            var urls = new (string Name, string Url)[]
            {
                ("counts by status", "/api/jobs/stats"),
                ("metrics, last hour (minutes)", Range("minute", 60, TimeSpan.FromMinutes(1))),
                ("metrics, last day (hours)", Range("hour", 24, TimeSpan.FromHours(1))),
                ("metrics, last week (hours)", Range("hour", 168, TimeSpan.FromHours(1))),
            };
            foreach (var (name, url) in urls)
            {
                var times = new List<double>();
                long requests = 0;
                JsonNode? body = null;
                for (var i = 0; i < Runs; i++)
                {
                    runner.AppRequests.Reset();
                    var sw = Stopwatch.StartNew();
                    body = JsonNode.Parse(await client.GetStringAsync(url))!;
                    times.Add(sw.Elapsed.TotalMilliseconds);
                    requests = runner.AppRequests.Snapshot().Values.Sum();
                }
                calls.Add(new JsonObject
                {
                    ["as"] = who, ["call"] = name, ["url"] = url, ["storageRequests"] = requests,
                    ["medianMs"] = Math.Round(Percentiles.Of(times).P50, 1), ["shows"] = Shows(body!),
                });
            }
            // The refresh itself: the four at once (Promise.all), timed until the last answers.
            var refreshTimes = new List<double>();
            long refreshRequests = 0;
            for (var i = 0; i < Runs; i++)
            {
                runner.AppRequests.Reset();
                var sw = Stopwatch.StartNew();
                await Task.WhenAll(urls.Select(async u => (await client.GetAsync(u.Url)).EnsureSuccessStatusCode()));
                refreshTimes.Add(sw.Elapsed.TotalMilliseconds);
                refreshRequests = runner.AppRequests.Snapshot().Values.Sum();
            }
            calls.Add(new JsonObject
            {
                ["as"] = who, ["call"] = "the refresh (all four at once)", ["storageRequests"] = refreshRequests,
                ["medianMs"] = Math.Round(Percentiles.Of(refreshTimes).P50, 1), ["shows"] = "",
            });
        }
        return calls;
    }

    /// <summary>What a call's answer held, so the table shows the reads found the seeded data.</summary>
    private static string Shows(JsonNode body)
    {
        if (body["byStatus"] is JsonObject byStatus)
        {
            return string.Join(", ", byStatus.Where(s => s.Value is not null && (long)s.Value! > 0).Select(s => $"{s.Key} {s.Value}"));
        }
        var points = body["series"]!.AsArray().SelectMany(s => s!["points"]!.AsArray()).ToList();
        var created = points.Sum(p => (long)p!["created"]!);
        return $"{points.Count} points, {created} created";
    }
}
