using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jobs.Bench;

/// <summary>
/// Webhooks (issue 27): the same jobs run twice on one app, first with no subscription, then with
/// <c>subscriptions</c> subscriptions to a local receiver (an <see cref="HttpListener"/> on loopback answering 204 at
/// once) wanting <c>job.started</c> and <c>job.completed</c>. Reports the deliveries per second of the second run (from
/// the first creation to the last delivery received), the lag from an event's time to its receipt, and the storage
/// requests each subscription adds per job and per event delivered (the difference between the two runs, counted at the
/// app's storage client pipeline).
/// </summary>
public static class WebhookBench
{
    private static readonly string[] Events = ["job.started", "job.completed"];

    public static async Task RunAsync(string repo, int jobs, int subscriptions, string markdownPath)
    {
        using var receiver = new Receiver();
        await using var emulators = await Emulators.StartAsync("shared");
        await using var runner = await BenchRunner.StartAsync(repo, emulators.App.ConnectionString, "wh" + Guid.NewGuid().ToString("N")[..6],
            new Dictionary<string, string?> { ["Jobs:Webhooks:AllowLoopbackHttp"] = "true", ["Jobs:Webhooks:MaxPerOwner"] = "100" });
        using var user = runner.Client("bench-webhooks");
        Console.WriteLine($"webhooks: {jobs} jobs without subscriptions, then with {subscriptions} (receiver on {receiver.Url})");

        await RunJobsAsync(runner, user, 5); // warm-up: the first jobs pay for start-up
        var (without, _) = await RunJobsAsync(runner, user, jobs);

        for (var i = 0; i < subscriptions; i++)
        {
            using var created = await user.PostAsJsonAsync("/api/webhooks", new { url = receiver.Url + "s" + i, events = Events });
            created.EnsureSuccessStatusCode();
        }
        await RunJobsAsync(runner, user, 5); // warm-up: the subscription cache, the first connection to the receiver
        await receiver.WaitForAsync(5 * subscriptions * Events.Length);
        receiver.Clear();
        var expected = jobs * subscriptions * Events.Length;
        var clock = Stopwatch.StartNew();
        var (with, _) = await RunJobsAsync(runner, user, jobs, () => receiver.WaitForAsync(expected));
        var seconds = clock.Elapsed.TotalSeconds;
        var lags = receiver.Lags();

        var addedPerJob = (with - without) / (double)jobs / subscriptions;
        var result = new JsonObject
        {
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["command"] = $"scripts/bench.sh --webhooks {jobs} --webhook-subscriptions {subscriptions}",
            ["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            ["jobs"] = jobs,
            ["subscriptions"] = subscriptions,
            ["events"] = string.Join(", ", Events),
            ["deliveries"] = receiver.Count,
            ["seconds"] = Math.Round(seconds, 2),
            ["deliveriesPerSecond"] = Math.Round(receiver.Count / seconds, 1),
            ["lagMs"] = new JsonObject
            {
                ["p50"] = Math.Round(Percentiles.Of(lags).P50, 1),
                ["p95"] = Math.Round(Percentiles.Of(lags).P95, 1),
                ["max"] = Math.Round(Percentiles.Of(lags).Max, 1),
            },
            ["requestsPerJobWithout"] = Math.Round(without / (double)jobs, 2),
            ["requestsPerJobWith"] = Math.Round(with / (double)jobs, 2),
            ["requestsAddedPerSubscriptionPerJob"] = Math.Round(addedPerJob, 2),
            ["requestsAddedPerEventDelivered"] = Math.Round(addedPerJob / Events.Length, 2),
        };
        Console.WriteLine(result.ToJsonString());
        var raw = Path.Combine(repo, "bench", "results", "webhooks.json");
        await File.WriteAllTextAsync(raw, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        await RenderSavedAsync(repo, markdownPath);
    }

    /// <summary>Puts the last run's section (bench/results/webhooks.json) back into a freshly rendered report.</summary>
    public static Task RenderSavedAsync(string repo, string markdownPath) => Soak.RenderSavedSectionAsync(repo, markdownPath, "webhooks", Render);

    private static string Render(JsonObject r) => string.Create(CultureInfo.InvariantCulture, $"""
        ## Webhooks: deliveries per second and the storage requests a subscription adds

        {r["date"]}, {r["machine"]}; `{r["command"]}` (a small run on a shared machine: a check that the scenario works and
        what it costs, not a capacity figure). `demo.steps` jobs of 1 step, each wanted by {r["subscriptions"]} subscriptions
        ({r["events"]}) of a receiver on loopback that answers 204 at once; the same number of jobs run first with no
        subscription.

        | measure | value |
        | --- | --- |
        | deliveries received | {r["deliveries"]} in {r["seconds"]} s (from the first creation to the last delivery) |
        | deliveries per second | {r["deliveriesPerSecond"]} |
        | lag, event time → received (p50 / p95 / max) | {r["lagMs"]!["p50"]} / {r["lagMs"]!["p95"]} / {r["lagMs"]!["max"]} ms |
        | app storage requests per job, no subscription | {r["requestsPerJobWithout"]} |
        | app storage requests per job, with the subscriptions | {r["requestsPerJobWith"]} |
        | requests each subscription adds per job | {r["requestsAddedPerSubscriptionPerJob"]} |
        | requests per event delivered | {r["requestsAddedPerEventDelivered"]} (target: at most 1) |

        The deliveries per second are the jobs' pace (each delivery follows its job's change), not the dispatcher's limit;
        the lag is from the event's `time` — the change's, stamped with the orchestration's time, which can precede the
        activity that writes it — to the receipt, so it includes the engine's scheduling on a loaded machine. The request
        figures are counts, independent of load.

        """);

    /// <summary>Creates <paramref name="count"/> jobs, waits for them to end (on the durable client) and for <paramref name="after"/>; returns the app's storage requests meanwhile.</summary>
    private static async Task<(long Requests, double Seconds)> RunJobsAsync(BenchRunner runner, HttpClient user, int count, Func<Task>? after = null)
    {
        runner.AppRequests.Reset();
        var clock = Stopwatch.StartNew();
        var ids = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, ct) =>
        {
            using var response = await user.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", input = new { steps = 1 } }, ct);
            response.EnsureSuccessStatusCode();
            ids.Add((string)JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!["id"]!);
        });
        foreach (var id in ids)
        {
            await runner.Durable.WaitForInstanceCompletionAsync(id);
        }
        if (after is not null)
        {
            await after();
        }
        return (runner.AppRequests.Snapshot().Values.Sum(), clock.Elapsed.TotalSeconds);
    }

    /// <summary>A receiver on loopback: answers 204 at once and keeps each delivery's receipt time and event time.</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentQueue<double> _lags = new();
        private int _count;

        public Receiver()
        {
            var port = FreePort();
            Url = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = Task.Run(LoopAsync);
        }

        public string Url { get; }

        public int Count => Volatile.Read(ref _count);

        public IReadOnlyCollection<double> Lags() => [.. _lags];

        public void Clear()
        {
            _lags.Clear();
            Interlocked.Exchange(ref _count, 0);
        }

        public async Task WaitForAsync(int deliveries)
        {
            var clock = Stopwatch.StartNew();
            while (Count < deliveries)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(5))
                {
                    throw new TimeoutException($"the receiver got {Count} of {deliveries} deliveries");
                }
                await Task.Delay(20);
            }
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (!_listener.IsListening)
                {
                    return;
                }
                _ = Task.Run(async () =>
                {
                    using var reader = new StreamReader(context.Request.InputStream);
                    var body = JsonNode.Parse(await reader.ReadToEndAsync());
                    if (DateTimeOffset.TryParse((string?)body?["time"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
                    {
                        _lags.Enqueue((DateTimeOffset.UtcNow - at).TotalMilliseconds);
                    }
                    Interlocked.Increment(ref _count);
                    context.Response.StatusCode = 204;
                    context.Response.Close();
                });
            }
        }

        private static int FreePort()
        {
            using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }

        public void Dispose() => _listener.Close();
    }
}
