using System.Net;
using System.Text.Json.Nodes;
using Jobs.Functions.Concurrency;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Concurrency;

/// <summary>
/// Concurrency limits, priorities and pausing a type, on Azurite with the real durable engine: jobs over a limit wait
/// <c>queued</c> and start in priority, then arrival, order as slots free up; a paused type starts none.
/// </summary>
[TakesAbout(15)]
public sealed class ConcurrencyLimitTests(ConcurrencyRunnerFixture runner) : IClassFixture<ConcurrencyRunnerFixture>
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ATypeLimitedPerKey_NeverRunsMoreThanItsLimitPerKey_CountedFromTheRecordsAndByTheHandler()
    {
        using var client = runner.Client("limits-" + Guid.NewGuid().ToString("N")[..6]);
        string[] keys = ["tenant-a", "tenant-b"];
        // Created at once, so that more arrive than may run: the key is also the correlation id, which the list rows carry,
        // so the records' count per key is one listing.
        var created = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => RunnerFixture.CreateJobAsync(client,
            new { type = DemoLimitedHandler.TypeName, input = new { delayMs = 1_500 }, concurrencyKey = keys[i % keys.Length], correlationId = keys[i % keys.Length] })));
        var ids = created.Select(c => (string)c["id"]!).ToList();

        var peakFromRecords = 0;
        var sawQueued = false;
        while (true)
        {
            var page = JsonNode.Parse(await client.GetStringAsync($"/api/jobs?type={DemoLimitedHandler.TypeName}&limit=100"))!["jobs"]!.AsArray();
            var running = page.Where(j => (string?)j!["status"] == "running").GroupBy(j => (string?)j!["correlationId"]).Select(g => g.Count()).DefaultIfEmpty(0).Max();
            peakFromRecords = Math.Max(peakFromRecords, running);
            Assert.True(running <= DemoLimitedHandler.MaxPerKey, $"{running} running with one key: {page.ToJsonString()}");
            sawQueued |= page.Any(j => (string?)j!["status"] == "queued");
            if (page.Count == ids.Count && page.All(j => (string?)j!["status"] is "completed" or "failed" or "cancelled" or "timed_out"))
            {
                break;
            }
            await Task.Delay(50);
        }
        Assert.True(sawQueued, "no job was ever listed queued");

        // The handler's own counts: how many jobs of its key were running in this (the only) process as each started, and
        // the overlap of the times each ran, as its clock saw them.
        var results = new List<JsonNode>();
        foreach (var id in ids)
        {
            var result = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/result"))!;
            Assert.Equal("completed", (string?)result["status"]);
            results.Add(result["result"]!);
        }
        Assert.All(results, r => Assert.InRange((int)r["runningWithKeyInProcess"]!, 1, DemoLimitedHandler.MaxPerKey));
        Assert.Contains(results, r => (int)r["runningWithKeyInProcess"]! == DemoLimitedHandler.MaxPerKey);
        foreach (var byKey in results.GroupBy(r => (string)r["key"]!))
        {
            var intervals = byKey.Select(r => ((DateTimeOffset)r["startedAt"]!, (DateTimeOffset)r["endedAt"]!)).ToList();
            var overlap = intervals.Max(i => intervals.Count(o => o.Item1 <= i.Item1 && i.Item1 < o.Item2));
            Assert.True(overlap <= DemoLimitedHandler.MaxPerKey, $"{overlap} of key {byKey.Key} ran at once");
        }
    }

    [Fact]
    public async Task QueuedJobs_ShowTheirPlaceInLine_AndStartInPriorityThenArrivalOrder()
    {
        using var client = runner.Client("priority-" + Guid.NewGuid().ToString("N")[..6]);
        // The holder keeps the slot until the test has seen the whole line (a fixed hold, 5 s, could end while a loaded
        // machine was still creating the waiting jobs: the first would then start at once, out of the test's order).
        using var gate = StepGates.Close();
        var holder = (string)(await RunnerFixture.CreateJobAsync(client, new { type = SingleSlotHandler.TypeName, input = new { gate = gate.Name } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, holder, s => (string?)s["status"] == "running");

        var waiting = new List<(string Id, string Name)>();
        foreach (var (name, priority) in new[] { ("low", 1), ("mid-1", 5), ("high-1", 9), ("mid-2", 5), ("high-2", 9) })
        {
            var created = await RunnerFixture.CreateJobAsync(client, new { type = SingleSlotHandler.TypeName, input = new { delayMs = 100 }, priority });
            Assert.Equal(priority, (int)created["priority"]!);
            waiting.Add(((string)created["id"]!, name));
        }
        // A job joins the queue when its orchestration asks for a slot, after its creation answered: all are in line first.
        foreach (var (id, _) in waiting)
        {
            await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "queued");
        }
        var positions = new Dictionary<string, int>();
        foreach (var (id, name) in waiting)
        {
            positions[name] = (int)JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/status"))!["queuePosition"]!;
        }
        Assert.Equal(new Dictionary<string, int> { ["high-1"] = 1, ["high-2"] = 2, ["mid-1"] = 3, ["mid-2"] = 4, ["low"] = 5 }, positions);
        var queued = JsonNode.Parse(await client.GetStringAsync($"/api/jobs?status=queued&type={SingleSlotHandler.TypeName}"))!;
        Assert.Equal(waiting.Select(w => w.Id).Order(), queued["jobs"]!.AsArray().Select(j => (string)j!["id"]!).Order());
        Assert.Equal(5, (int)queued["pagination"]!["total"]!);
        gate.Open();

        var started = new List<(DateTimeOffset At, string Name)>();
        foreach (var (id, name) in waiting)
        {
            await RunnerFixture.WaitForEndAsync(client, id, Long);
            var job = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!;
            Assert.Equal("completed", (string?)job["status"]);
            started.Add(((DateTimeOffset)job["startedAt"]!, name));
        }
        Assert.Equal(["high-1", "high-2", "mid-1", "mid-2", "low"], started.OrderBy(s => s.At).Select(s => s.Name));
    }

    [Fact]
    public async Task APausedType_TakesJobsButHoldsThemQueued_AndResumeStartsThem()
    {
        Assert.False(new PausableHandler().Concurrency.IsLimited); // a type without limits: its jobs are admitted by their first step
        using var admin = runner.Client("pause-admin", "admin");
        using var user = runner.Client("pause-user-" + Guid.NewGuid().ToString("N")[..6]);
        using (var refused = await user.PostAsync($"/api/job-types/{PausableHandler.TypeName}/pause", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        using (var unknown = await admin.PostAsync("/api/job-types/no.such-type/pause", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
            Assert.Equal("type", (string?)JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!["errors"]![0]!["field"]);
        }
        Assert.False(await PausedAsync(user));

        using (var paused = await admin.PostAsync($"/api/job-types/{PausableHandler.TypeName}/pause", null))
        {
            Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
            Assert.True((bool)JsonNode.Parse(await paused.Content.ReadAsStringAsync())!["paused"]!);
        }
        Assert.True(await PausedAsync(user));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((string)(await RunnerFixture.CreateJobAsync(user, new { type = PausableHandler.TypeName }))["id"]!);
        }
        foreach (var id in ids)
        {
            var status = await RunnerFixture.PollStatusAsync(user, id, s => (string?)s["status"] == "queued");
            Assert.Contains("type paused", (string?)status["message"], StringComparison.Ordinal);
        }
        // Held across reconciler passes (which grant waiters that fit): none starts while paused.
        await ReconcileAsync(2);
        foreach (var id in ids)
        {
            Assert.Equal("queued", (string?)JsonNode.Parse(await user.GetStringAsync($"/api/jobs/{id}/status"))!["status"]);
        }

        using (var resumed = await admin.PostAsync($"/api/job-types/{PausableHandler.TypeName}/resume", null))
        {
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        }
        Assert.False(await PausedAsync(user));
        foreach (var id in ids)
        {
            Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(user, id, Long))["status"]);
            // The type declares no limits, so its first step is what found it paused: that try wrote nothing, and the step
            // started once, after the resume.
            var lines = JsonNode.Parse(await user.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray()
                .Select(l => (string)l!["message"]!).ToList();
            Assert.Single(lines, l => l.Contains("type paused", StringComparison.Ordinal));
            Assert.Single(lines, l => l.StartsWith("Step work started", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task CancellingAQueuedJob_EndsItAtOnce_AndStartsNothingOutOfTurn()
    {
        using var client = runner.Client("cancel-queued-" + Guid.NewGuid().ToString("N")[..6]);
        // The holder keeps the slot until the test has looked (a fixed hold, 3 s, could end first on a loaded machine).
        using var gate = StepGates.Close();
        var holder = (string)(await RunnerFixture.CreateJobAsync(client, new { type = SingleSlotHandler.TypeName, input = new { gate = gate.Name } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, holder, s => (string?)s["status"] == "running");
        var first = (string)(await RunnerFixture.CreateJobAsync(client, new { type = SingleSlotHandler.TypeName }))["id"]!;
        var second = (string)(await RunnerFixture.CreateJobAsync(client, new { type = SingleSlotHandler.TypeName }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, second, s => (string?)s["status"] == "queued" && (int?)s["queuePosition"] == 2);

        using (var cancel = await client.PostAsync($"/api/jobs/{first}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Equal("cancelled", (string?)JsonNode.Parse(await cancel.Content.ReadAsStringAsync())!["status"]);
        }
        // The one behind it moves up, but the slot is still the holder's: it waits.
        var after = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{second}/status"))!;
        Assert.Equal(("queued", 1), ((string?)after["status"], (int?)after["queuePosition"]));
        Assert.Equal("running", (string?)JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{holder}/status"))!["status"]);
        gate.Open();

        await RunnerFixture.WaitForEndAsync(client, second, Long);
        var holderJob = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{holder}"))!;
        var secondJob = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{second}"))!;
        Assert.Equal("completed", (string?)secondJob["status"]);
        Assert.True((DateTimeOffset)secondJob["startedAt"]! >= (DateTimeOffset)holderJob["completedAt"]!,
            $"started {secondJob["startedAt"]} before the holder ended {holderJob["completedAt"]}");
        Assert.Null(JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{first}"))!["startedAt"]);
    }

    [Fact]
    public async Task AJobQueuedBehindAHolderThatDiedWithoutGivingItsSlotBack_GetsTheSlotThroughTheReconciler()
    {
        using var client = runner.Client("killed-holder-" + Guid.NewGuid().ToString("N")[..6]);
        var holder = (string)(await RunnerFixture.CreateJobAsync(client, new { type = SingleSlotHandler.TypeName, input = new { delayMs = 600_000 } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, holder, s => (string?)s["status"] == "running");
        var waiter = (string)(await RunnerFixture.CreateJobAsync(client, new { type = SingleSlotHandler.TypeName, input = new { delayMs = 10 } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, waiter, s => (string?)s["status"] == "queued");

        // What an instance killed between writing its job's ending and giving the slot back leaves: the record ended (written
        // here as that instance's JobStore would, without the release that follows), its orchestration gone, the slot still
        // held. Nothing but the reconciler gives it back.
        var now = runner.Store.Now;
        var ended = await runner.Store.UpdateAsync(holder, current => JobTransitions.End(current, JobOutcome.Terminated("test", "the instance died"), now), CancellationToken.None);
        Assert.Equal(JobStatus.Cancelled, ended!.Job.Status);
        var durable = runner.Services.GetRequiredService<DurableTaskClient>();
        await durable.TerminateInstanceAsync(holder, "the instance died");
        var slots = runner.Services.GetRequiredService<JobSlots>();

        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(client, waiter, Long))["status"]);
        Assert.DoesNotContain((await slots.ReadAsync(SingleSlotHandler.TypeName, CancellationToken.None)).Holders, h => h.JobId == holder);
    }

    private async Task<bool> PausedAsync(HttpClient client)
    {
        var types = JsonNode.Parse(await client.GetStringAsync("/api/job-types"))!["jobTypes"]!.AsArray();
        return (bool)types.Single(t => (string?)t!["type"] == PausableHandler.TypeName)!["paused"]!;
    }

    /// <summary>Runs the reconciler's pass <paramref name="runs"/> times, as its timer does.</summary>
    private async Task ReconcileAsync(int runs)
    {
        var reconciler = runner.Services.GetRequiredService<Jobs.Functions.Maintenance.JobReconciler>();
        var durable = runner.Services.GetRequiredService<DurableTaskClient>();
        for (var i = 0; i < runs; i++)
        {
            await reconciler.RunAsync(durable, CancellationToken.None);
        }
    }
}
