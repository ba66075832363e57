using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// Breaks the app's storage on purpose, one write path at a time, both before a write is applied and after it was
/// applied with its answer lost, and checks the invariant: the job ends with the outcome its handler decided, its
/// record and list rows agree, and nothing is left in the live-job index. Every demo job here succeeds in every
/// step, so anything but <c>completed</c> (or <c>cancelled</c> where the test cancels) is a bookkeeping failure
/// that decided an outcome.
/// </summary>
[Collection(FaultRunnerCollection.Name)]
public sealed class FaultInjectionTests(FaultRunnerFixture runner) : FaultInjectionCases(runner)
{
    public static TheoryData<string, FaultTiming> WritePaths()
    {
        var data = new TheoryData<string, FaultTiming>();
        foreach (var path in new[] { "step start", "progress", "log line", "list rows on start", "finish", "list rows on finish", "job event" })
        {
            data.Add(path, FaultTiming.BeforeApplied);
            data.Add(path, FaultTiming.AfterApplied);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(WritePaths))]
    public async Task FaultOnAWritePath_JobStillCompletes_WithATrueRecordAndListRows(string path, FaultTiming timing)
    {
        string? id = null;
        Runner.Faults.FailNth(PathOf(path, () => Volatile.Read(ref id)), 1, timing);
        using var client = Runner.Client(Owner);

        // Steps long enough for a batched progress write to happen while step 2 runs.
        var created = await RunnerFixture.CreateJobAsync(client, Demo(delayMs: path == "progress" ? 1200 : 300));
        Volatile.Write(ref id, (string)created["id"]!);

        await AssertEndsTrueAsync(client, id!, JobStatus.Completed);
    }

    [Fact]
    public async Task AFiveStepJob_CostsFourteenWrites_AndNoReadsOfItsRecord_WhenNothingFails()
    {
        // The cost the benchmark measures (docs/storage.md): create 3 (two list-row batches, the all-jobs one with the
        // live-job row; the record), running 3 (the record with its outbox row, then one list-row batch per scope), one
        // transaction per step (record + lines), the ending 4 (record + lines + outbox row, two list-row batches, the event). The step activities write under the ETag
        // this process last saw, so nothing reads the record — only the reconciler's visits (every second here) do.
        string? id = null;
        // The counters' aggregator (the reconciler, every second here) folds this job's deltas with those of others: its
        // transactions, which carry the counter row, are amortised over every job they fold and not this job's cost.
        var mine = Runner.Faults.Watch(r => Volatile.Read(ref id) is { } job && !r.BodyHas($"\"RowKey\":\"{TableKeys.CounterRowKey}\"")
            && (r.Path.Contains(job, StringComparison.Ordinal) || r.BodyHas(job) || (r.IsQueueSend("job-events") && Decoded(r.Body).Contains(job, StringComparison.Ordinal))));
        var preassigned = Guid.NewGuid().ToString("N");
        using var client = Runner.Client(Owner);
        // The id is only known from the answer, so the create's writes are matched by this test's owner instead.
        var creates = Runner.Faults.Watch(r => r.Method != "GET" && r.BodyHas(Owner) && r.BodyHas("\"Status\":\"pending\""));
        // Its type declares no limits: its admission is its first step's look at the type's pause (no admission
        // activity), and nothing is written for it. The flag is read at most once per JobSlots.PauseFlagLifetime per
        // instance (PauseFlagTests), so this job reads it once, or not at all when a job before it just did.
        var slotRequests = Runner.Faults.Watch(r => r.Path.Contains("slots-demo.steps", StringComparison.Ordinal) && r.Query.Contains("$select=Paused", StringComparison.Ordinal));
        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 5 }, correlationId = preassigned });
        Volatile.Write(ref id, (string)created["id"]!);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var instance = await Runner.Services.GetRequiredService<DurableTaskClient>().WaitForInstanceCompletionAsync(id!, wait.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, instance.RuntimeStatus);

        var writes = mine.Where(r => !r.StartsWith("GET", StringComparison.Ordinal)).ToList();
        Assert.True(creates.Count == 3, $"create: {string.Join(", ", creates)}");
        Assert.True(writes.Count == 11, $"after the create: {string.Join(", ", writes)}");
        Assert.True(slotRequests.Count <= 1, $"slot row: {string.Join(", ", slotRequests)}");
        Assert.Equal("", await ProjectionProblemsAsync(id!));
        var lines = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray().Select(l => (string)l!["message"]!).ToList();
        Assert.Equal(5, lines.Count(l => l.EndsWith("did its work.", StringComparison.Ordinal)));
        Assert.Equal(5, lines.Count(l => l.StartsWith("Step step-", StringComparison.Ordinal) && l.Contains(" completed in ", StringComparison.Ordinal)));
        Assert.Equal(5, lines.Count(l => l.StartsWith("Step step-", StringComparison.Ordinal) && l.Contains(" started ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("record", FaultTiming.BeforeApplied)]
    [InlineData("record", FaultTiming.AfterApplied)]
    [InlineData("list rows", FaultTiming.BeforeApplied)]
    [InlineData("list rows", FaultTiming.AfterApplied)]
    public async Task FaultOnCreate_Is503_AndARetryWithTheSameKey_GetsOneJobThatCompletes(string write, FaultTiming timing)
    {
        // A pending job's list rows (with its live-job row) are written before its record: a fault on either is a 503.
        Runner.Faults.FailNth(write == "record"
            ? r => IsRecordInsert(r)
            : r => r.IsBatch && r.BodyHas(Owner) && r.BodyHas("\"Status\":\"pending\""), 1, timing);
        using var client = Runner.Client(Owner);

        using (var first = await client.PostAsJsonAsync("/api/jobs", Demo("create-1")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        }
        using var retry = await client.PostAsJsonAsync("/api/jobs", Demo("create-1"));
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        // After-applied, the first try did record the job: the retry must hand back that one, not a second.
        Assert.Equal(write == "record" && timing == FaultTiming.AfterApplied, retry.Headers.Contains("Idempotent-Replayed"));
        var id = (string)JsonNode.Parse(await retry.Content.ReadAsStringAsync())!["id"]!;

        await AssertEndsTrueAsync(client, id, JobStatus.Completed);
        var mine = JsonNode.Parse(await client.GetStringAsync("/api/jobs?limit=100"))!["jobs"]!.AsArray();
        Assert.Equal([id], mine.Select(j => (string)j!["id"]!));
    }

    [Fact]
    public async Task FaultAfterTheRecordIsWritten_WithNoRetry_TheReconcilerStartsTheJob()
    {
        // The record was applied, the answer lost: the client saw 503 and never retries. The job is in the
        // live-job index, pending, with no orchestration: the reconciler must start it, and it must complete.
        Runner.Faults.FailNth(r => IsRecordInsert(r), 1, FaultTiming.AfterApplied);
        using var client = Runner.Client(Owner);
        using (var first = await client.PostAsJsonAsync("/api/jobs", Demo()))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        }
        var id = await WaitForListedJobAsync(client);

        await AssertEndsTrueAsync(client, id, JobStatus.Completed);
    }

    [Theory]
    [InlineData(FaultTiming.BeforeApplied)]
    [InlineData(FaultTiming.AfterApplied)]
    public async Task StatusChangeWhoseProjectionFailed_StaysCommittedInItsOutbox_AndTheNextWriteSettlesIt_EvenOneThatChangesNothing(FaultTiming timing)
    {
        // A change is committed with its outbox row before anything is derived from it; a projection that fails (here the
        // first list-row transaction) leaves the change standing and its outbox row behind. A draft is in no live-job
        // index, so the reconciler never visits it: the next write of the job must settle it.
        var store = Runner.Store;
        var now = store.Now;
        var draft = await store.CreateAsync(new Job { Id = Guid.NewGuid().ToString("N"), Type = "demo.steps", Status = JobStatus.Draft, Owner = Owner, CreatedAt = now, UpdatedAt = now }, default);
        Assert.Equal("", await ProjectionProblemsAsync(draft.Id));
        Runner.Faults.FailNth(r => r.IsBatch && r.BodyHas($"\"JobId\":\"{draft.Id}\"") && r.BodyHas("\"Status\":\"cancelled\""), 1, timing);

        var cancelled = await store.UpdateAsync(draft, current => Jobs.Functions.Lifecycle.JobTransitions.End(current, Jobs.Functions.Lifecycle.JobOutcome.CancelledBeforeStart(Owner), store.Now), default);
        Assert.True(cancelled!.Changed);
        var stale = (await store.ReadAsync(draft.Id, default))!;
        Assert.Equal(JobStatus.Cancelled, stale.Job.Status);
        Assert.Contains(stale.Unsettled, c => c.From == JobStatus.Draft && c.To == JobStatus.Cancelled);
        Assert.NotEqual("", await ProjectionProblemsAsync(draft.Id));

        // A retried cancel finds the job already cancelled: no change to make, but the change it owes is settled.
        var retried = await store.UpdateAsync(draft.Id, current => Jobs.Functions.Lifecycle.JobTransitions.End(current, Jobs.Functions.Lifecycle.JobOutcome.CancelledBeforeStart(Owner), store.Now), default);
        Assert.False(retried!.Changed);
        Assert.Equal("", await ProjectionProblemsAsync(draft.Id));
        Assert.Empty((await store.ReadAsync(draft.Id, default))!.Unsettled);
        Assert.Equal(InjectedBefore + 1, Runner.Faults.Injected);
    }

    [Theory]
    [InlineData(FaultTiming.BeforeApplied)]
    [InlineData(FaultTiming.AfterApplied)]
    public async Task FaultOnASubmittedDraftsListRows_TheSubmitStands_AndTheJobIsListedAndCompletes(FaultTiming timing)
    {
        // A draft becoming pending is watched (its live-job row written) before its record says so; its projection fails
        // here, so only the next write (the first step's) or the reconciler can bring its list rows along.
        using var client = Runner.Client(Owner);
        using var draft = await client.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", input = new { steps = 3, delayMs = 300 }, draft = true });
        Assert.Equal(HttpStatusCode.Created, draft.StatusCode);
        var id = (string)JsonNode.Parse(await draft.Content.ReadAsStringAsync())!["id"]!;
        Runner.Faults.FailNth(r => r.IsBatch && r.BodyHas($"\"JobId\":\"{id}\"") && r.BodyHas("\"Status\":\"pending\""), 1, timing);

        using var submitted = await client.PostAsync($"/api/jobs/{id}/submit", null);
        Assert.True(submitted.IsSuccessStatusCode, $"{(int)submitted.StatusCode} {await submitted.Content.ReadAsStringAsync()}");

        await AssertEndsTrueAsync(client, id, JobStatus.Completed);
    }

    [Theory]
    [InlineData(FaultTiming.BeforeApplied)]
    [InlineData(FaultTiming.AfterApplied)]
    public async Task FaultOnCancel_Is503_ARetriedCancelEndsTheJobCancelled(FaultTiming timing)
    {
        string? id = null;
        Runner.Faults.FailNth(r => Volatile.Read(ref id) is { } job && IsRecordWrite(r, job) && r.BodyHas("\"CancelRequested\":true"), 1, timing);
        using var client = Runner.Client(Owner);
        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 3, delayMs = 1500 } });
        Volatile.Write(ref id, (string)created["id"]!);
        await RunnerFixture.PollStatusAsync(client, id!, s => (string?)s["status"] == "running");

        using (var first = await client.PostAsync($"/api/jobs/{id}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        }
        using var retry = await client.PostAsync($"/api/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);

        await AssertEndsTrueAsync(client, id!, JobStatus.Cancelled);
    }
}
