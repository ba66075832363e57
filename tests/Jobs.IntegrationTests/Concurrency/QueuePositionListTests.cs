using System.Text.Json.Nodes;
using Jobs.Client;
using Jobs.Functions.Concurrency;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Concurrency;

/// <summary>
/// Issue 26: the list's queued rows carry their place in line — the number <c>GET /api/jobs/{id}</c> gives — from one
/// range read of the head of each type's queue among the page's queued rows, and a page without queued rows reads no
/// queue at all.
/// </summary>
public sealed class QueuePositionListTests(ConcurrencyRunnerFixture runner) : IClassFixture<ConcurrencyRunnerFixture>, IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    public void Dispose() => runner.Requests.Clear();

    /// <summary>
    /// The list's queue read (<see cref="JobSlots.PositionsAsync"/>): a range read of the type's waiting rows selecting
    /// their start-order columns. The reconciler's grant reads whole waiting rows (no <c>$select</c>) and a job's own
    /// position reads row keys only, so neither is counted.
    /// </summary>
    private static Func<StorageRequest, bool> ListQueueReadOf(string type) => r =>
        r.Method == "GET"
        && r.Query.Contains($"PartitionKey eq '{JobSlots.Partition(type)}'", StringComparison.Ordinal)
        && r.Query.Contains("RowKey ge 'q-'", StringComparison.Ordinal)
        && r.Query.Contains("ArrivedAt", StringComparison.Ordinal);

    [Fact]
    public async Task QueuedRows_CarryThePositionTheirJobGives_FromOneQueueRead_AndAPageWithoutQueuedRowsReadsNoQueue()
    {
        using var client = runner.Client("list-position-" + Guid.NewGuid().ToString("N")[..6]);
        // The holder keeps the one slot for as long as the test looks at the queue (its one step is not interrupted by a
        // cancel: it is left to end when the fixture stops).
        var holder = (string)(await RunnerFixture.CreateJobAsync(client, new { type = SingleSlotHandler.TypeName, input = new { delayMs = 60_000 } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, holder, s => (string?)s["status"] == "running");

        var waiting = new List<(string Id, string Name)>();
        foreach (var (name, priority) in new[] { ("low", 2), ("high-1", 7), ("mid", 5), ("high-2", 7) })
        {
            var created = await RunnerFixture.CreateJobAsync(client, new { type = SingleSlotHandler.TypeName, input = new { delayMs = 10 }, priority });
            waiting.Add(((string)created["id"]!, name));
        }
        foreach (var (id, _) in waiting)
        {
            await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "queued");
        }

        var reads = runner.Requests.Watch(ListQueueReadOf(SingleSlotHandler.TypeName));
        var page = JsonNode.Parse(await client.GetStringAsync($"/api/jobs?type={SingleSlotHandler.TypeName}&limit=100"))!["jobs"]!.AsArray();
        Assert.Single(reads);
        var listed = page.ToDictionary(j => (string)j!["id"]!, j => j!);
        Assert.Null(listed[holder]["queuePosition"]); // running: no place in line
        var byName = waiting.ToDictionary(w => w.Name, w => (int?)listed[w.Id]["queuePosition"]);
        Assert.Equal(new Dictionary<string, int?> { ["high-1"] = 1, ["high-2"] = 2, ["mid"] = 3, ["low"] = 4 }, byName);
        foreach (var (id, name) in waiting)
        {
            var job = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!;
            Assert.Equal((int?)job["queuePosition"], (int?)listed[id]["queuePosition"]);
        }

        // Jobs.Client reads the same numbers from the list.
        var summaries = new List<JobSummary>();
        await foreach (var summary in new JobsClient(client).ListAsync(new JobQuery { Types = [SingleSlotHandler.TypeName], Statuses = [JobState.Queued] }))
        {
            summaries.Add(summary);
        }
        Assert.Equal(waiting.Select(w => (w.Id, byName[w.Name])).OrderBy(p => p.Id, StringComparer.Ordinal),
            summaries.Select(s => (s.Id, s.QueuePosition)).OrderBy(p => p.Id, StringComparer.Ordinal));

        // A page whose rows are not queued (the holder alone) reads no queue.
        var before = reads.Count;
        var running = JsonNode.Parse(await client.GetStringAsync($"/api/jobs?type={SingleSlotHandler.TypeName}&status=running"))!["jobs"]!.AsArray();
        Assert.Equal(holder, (string?)Assert.Single(running)!["id"]);
        Assert.Equal(before, reads.Count);

        // Cancelled in line, so that none starts after the holder.
        foreach (var (id, _) in waiting)
        {
            using var cancel = await client.PostAsync($"/api/jobs/{id}/cancel", null);
            cancel.EnsureSuccessStatusCode();
        }
        foreach (var (id, _) in waiting)
        {
            Assert.Equal("cancelled", (string?)(await RunnerFixture.WaitForEndAsync(client, id, Long))["status"]);
        }
    }
}
