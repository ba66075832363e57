using System.Diagnostics;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>What watching a job over <c>/events</c> costs in storage requests, against polling <c>/status</c> once a second.</summary>
[Collection(FaultRunnerCollection.Name)]
public sealed class EventStreamCostTests(FaultRunnerFixture runner)
{
    [Fact]
    public async Task StreamingAJob_ReadsStorageNoMoreThanPollingOnceASecond()
    {
        using var client = runner.Client("sse-cost-" + Guid.NewGuid().ToString("N")[..8]);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 4, delayMs = 1_500 } }))["id"]!;
        // The stream's reads: range queries of the job's partition (record + new lines). Point reads of the record are
        // not counted: this fixture's reconciler makes one a second for every live job, streamed or not; the stream's
        // own is the one that authorises it.
        var reads = runner.Faults.Watch(r => r.Method == "GET" && r.Query.Contains($"PartitionKey eq '{id}'", StringComparison.Ordinal));

        var watch = Stopwatch.StartNew();
        var connections = await SseClient.ReadToEndAsync(client, $"/api/jobs/{id}/events");
        var seconds = watch.Elapsed.TotalSeconds;

        var events = connections.SelectMany(c => c.Events).ToList();
        Assert.Equal("end", events[^1].Event);
        Assert.True(events.Count(e => e.Event == "status") >= 8, $"the stream showed the progress: {events.Count(e => e.Event == "status")} status events");
        // Polling /status once a second for as long costs ⌈seconds⌉ reads; the stream pays one a second for other
        // instances' changes and one at the end — changes made in this process reach it without a read.
        Assert.True(reads.Count <= Math.Ceiling(seconds) + 1, $"{reads.Count} reads in {seconds:0.0} s: {string.Join(", ", reads)}");
    }
}
