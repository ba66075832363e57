using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.LocalRunner.Restarts;
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
public sealed class FaultInjectionTests(FaultRunnerFixture runner) : IDisposable
{
    private readonly string _owner = "fault-" + Guid.NewGuid().ToString("N")[..10];
    private readonly int _injectedBefore = runner.Faults.Injected;

    public void Dispose() => runner.Faults.Clear();

    private static object Demo(string? key = null, int delayMs = 300) =>
        new { type = "demo.steps", input = new { steps = 3, delayMs }, idempotencyKey = key };

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

    /// <summary>The request of each write path, as the storage pipeline sees it (for this test's owner or job).</summary>
    private Func<StorageRequest, bool> PathOf(string path, Func<string?> jobId) => path switch
    {
        // The record's write that starts step 2, in one transaction with the lines of step 1.
        "step start" => r => jobId() is { } id && IsRecordWrite(r, id) && r.BodyHas("\"Message\":\"Running step-2\""),
        // Progress is written batched (every 250 ms at most) while a step runs.
        "progress" => r => jobId() is { } id && IsRecordWrite(r, id) && r.BodyHas("Step 2 of 3: "),
        // Written by whichever write comes first: a batched flush, or the next step's start.
        "log line" => r => jobId() is { } id && r.IsBatch && r.BodyHas(id) && r.BodyHas("Step 2 of 3 did its work."),
        "list rows on start" => r => r.IsBatch && r.BodyHas(_owner) && r.BodyHas("\"Status\":\"running\""),
        "finish" => r => jobId() is { } id && IsRecordWrite(r, id) && r.BodyHas("\"Status\":\"completed\""),
        // An ending's list rows follow its record; the all-jobs transaction also removes the live-job row.
        "list rows on finish" => r => jobId() is { } id && r.IsBatch && r.BodyHas($"\"JobId\":\"{id}\"") && r.BodyHas("\"Status\":\"completed\""),
        "job event" => r => r.IsQueueSend("job-events") && Decoded(r.Body).Contains(_owner, StringComparison.Ordinal),
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, null),
    };

    /// <summary>This test's job's record inserted: in a transaction with its creation's audit entry (and a resumed job's carried rows).</summary>
    private bool IsRecordInsert(StorageRequest r) => r.IsBatch && r.BodyHas(_owner) && r.BodyHas("\"RowKey\":\"job\"");

    /// <summary>A write of the job's record: alone, or in a transaction of its partition (with log lines).</summary>
    private bool IsRecordWrite(StorageRequest r, string id) =>
        r.IsRecordUpdate(runner.JobsTable, id) || (r.IsBatch && r.BodyHas(id) && r.BodyHas("\"RowKey\":\"job\""));

    [Theory]
    [MemberData(nameof(WritePaths))]
    public async Task FaultOnAWritePath_JobStillCompletes_WithATrueRecordAndListRows(string path, FaultTiming timing)
    {
        string? id = null;
        runner.Faults.FailNth(PathOf(path, () => Volatile.Read(ref id)), 1, timing);
        using var client = runner.Client(_owner);

        // Steps long enough for a batched progress write to happen while step 2 runs.
        var created = await RunnerFixture.CreateJobAsync(client, Demo(delayMs: path == "progress" ? 1200 : 300));
        Volatile.Write(ref id, (string)created["id"]!);

        await AssertEndsTrueAsync(client, id!, JobStatus.Completed);
    }

    /// <summary>
    /// The fault strikes and the host restarts right there, before the app sees the fault (as when the same storage
    /// error had hit a queue message's settle, which restarts the host — HostRestartTests): the running step is
    /// aborted, nothing it reports is sent, and its work item comes back after the visibility timeout, so the step runs
    /// again from the start on the fresh worker over whatever the first run had written. The job still ends as its
    /// handler decided, with a true record and list rows.
    /// </summary>
    [Theory]
    [InlineData("step start", FaultTiming.AfterApplied)]
    [InlineData("progress", FaultTiming.BeforeApplied)]
    [InlineData("finish", FaultTiming.AfterApplied)]
    [InlineData("list rows on finish", FaultTiming.BeforeApplied)]
    public async Task HostRestartAtAFault_TheStepRunsAgain_AndTheJobStillCompletes_WithATrueRecordAndListRows(string path, FaultTiming timing)
    {
        var restarter = runner.Services.GetRequiredService<HostRestarter>();
        var restartsBefore = restarter.Restarts;
        string? id = null;
        runner.Faults.OnStrike = async _ =>
        {
            Assert.True(restarter.RequestRestart($"restarted by the test at its fault on {path}", null));
            await ListenerParts.WaitUntilAsync(() => restarter.Restarts > restartsBefore, TimeSpan.FromSeconds(30), "the host has restarted");
        };
        runner.Faults.FailNth(PathOf(path, () => Volatile.Read(ref id)), 1, timing);
        using var client = runner.Client(_owner);

        var created = await RunnerFixture.CreateJobAsync(client, Demo(delayMs: path == "progress" ? 1200 : 300));
        Volatile.Write(ref id, (string)created["id"]!);

        await AssertEndsTrueAsync(client, id!, JobStatus.Completed, restarted: true);
        Assert.Equal(restartsBefore + 1, restarter.Restarts);
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
        var mine = runner.Faults.Watch(r => Volatile.Read(ref id) is { } job && !r.BodyHas($"\"RowKey\":\"{TableKeys.CounterRowKey}\"")
            && (r.Path.Contains(job, StringComparison.Ordinal) || r.BodyHas(job) || (r.IsQueueSend("job-events") && Decoded(r.Body).Contains(job, StringComparison.Ordinal))));
        var preassigned = Guid.NewGuid().ToString("N");
        using var client = runner.Client(_owner);
        // The id is only known from the answer, so the create's writes are matched by this test's owner instead.
        var creates = runner.Faults.Watch(r => r.Method != "GET" && r.BodyHas(_owner) && r.BodyHas("\"Status\":\"pending\""));
        // Its type declares no limits: its admission is its first step's look at the type's pause (no admission
        // activity), and nothing is written for it. The flag is read at most once per JobSlots.PauseFlagLifetime per
        // instance (PauseFlagTests), so this job reads it once, or not at all when a job before it just did.
        var slotRequests = runner.Faults.Watch(r => r.Path.Contains("slots-demo.steps", StringComparison.Ordinal) && r.Query.Contains("$select=Paused", StringComparison.Ordinal));
        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 5 }, correlationId = preassigned });
        Volatile.Write(ref id, (string)created["id"]!);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var instance = await runner.Services.GetRequiredService<DurableTaskClient>().WaitForInstanceCompletionAsync(id!, wait.Token);
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
        runner.Faults.FailNth(write == "record"
            ? r => IsRecordInsert(r)
            : r => r.IsBatch && r.BodyHas(_owner) && r.BodyHas("\"Status\":\"pending\""), 1, timing);
        using var client = runner.Client(_owner);

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
        runner.Faults.FailNth(r => IsRecordInsert(r), 1, FaultTiming.AfterApplied);
        using var client = runner.Client(_owner);
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
        var store = runner.Store;
        var now = store.Now;
        var draft = await store.CreateAsync(new Job { Id = Guid.NewGuid().ToString("N"), Type = "demo.steps", Status = JobStatus.Draft, Owner = _owner, CreatedAt = now, UpdatedAt = now }, default);
        Assert.Equal("", await ProjectionProblemsAsync(draft.Id));
        runner.Faults.FailNth(r => r.IsBatch && r.BodyHas($"\"JobId\":\"{draft.Id}\"") && r.BodyHas("\"Status\":\"cancelled\""), 1, timing);

        var cancelled = await store.UpdateAsync(draft, current => Jobs.Functions.Lifecycle.JobTransitions.End(current, Jobs.Functions.Lifecycle.JobOutcome.CancelledBeforeStart(_owner), store.Now), default);
        Assert.True(cancelled!.Changed);
        var stale = (await store.ReadAsync(draft.Id, default))!;
        Assert.Equal(JobStatus.Cancelled, stale.Job.Status);
        Assert.Contains(stale.Unsettled, c => c.From == JobStatus.Draft && c.To == JobStatus.Cancelled);
        Assert.NotEqual("", await ProjectionProblemsAsync(draft.Id));

        // A retried cancel finds the job already cancelled: no change to make, but the change it owes is settled.
        var retried = await store.UpdateAsync(draft.Id, current => Jobs.Functions.Lifecycle.JobTransitions.End(current, Jobs.Functions.Lifecycle.JobOutcome.CancelledBeforeStart(_owner), store.Now), default);
        Assert.False(retried!.Changed);
        Assert.Equal("", await ProjectionProblemsAsync(draft.Id));
        Assert.Empty((await store.ReadAsync(draft.Id, default))!.Unsettled);
        Assert.Equal(_injectedBefore + 1, runner.Faults.Injected);
    }

    [Theory]
    [InlineData(FaultTiming.BeforeApplied)]
    [InlineData(FaultTiming.AfterApplied)]
    public async Task FaultOnASubmittedDraftsListRows_TheSubmitStands_AndTheJobIsListedAndCompletes(FaultTiming timing)
    {
        // A draft becoming pending is watched (its live-job row written) before its record says so; its projection fails
        // here, so only the next write (the first step's) or the reconciler can bring its list rows along.
        using var client = runner.Client(_owner);
        using var draft = await client.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", input = new { steps = 3, delayMs = 300 }, draft = true });
        Assert.Equal(HttpStatusCode.Created, draft.StatusCode);
        var id = (string)JsonNode.Parse(await draft.Content.ReadAsStringAsync())!["id"]!;
        runner.Faults.FailNth(r => r.IsBatch && r.BodyHas($"\"JobId\":\"{id}\"") && r.BodyHas("\"Status\":\"pending\""), 1, timing);

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
        runner.Faults.FailNth(r => Volatile.Read(ref id) is { } job && IsRecordWrite(r, job) && r.BodyHas("\"CancelRequested\":true"), 1, timing);
        using var client = runner.Client(_owner);
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

    /// <summary>
    /// Waits (bounded) for the job to end, then for its projections to settle, and checks them against the record:
    /// the expected status with no error, list rows in every scope showing the record's status at its last status
    /// change (and no rows of earlier changes), the projection confirmed, no live-job row.
    /// </summary>
    /// <param name="restarted">The host restarted while a step ran: that step's log may say it was cancelled (it saw its
    /// token), and then that it started again as the same attempt — never any other failure.</param>
    private static async Task<JsonObject> WaitForEndThroughRestartsAsync(HttpClient client, string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        string? last = null;
        while (DateTime.UtcNow < deadline)
        {
            using var response = await client.GetAsync($"/api/jobs/{id}/status");
            if (response.IsSuccessStatusCode)
            {
                var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
                last = status.ToJsonString();
                if ((string?)status["status"] is "completed" or "failed" or "cancelled" or "timed_out")
                {
                    return status;
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Job {id} never ended; last seen: {last}");
    }

    private async Task AssertEndsTrueAsync(HttpClient client, string id, JobStatus expected, bool restarted = false)
    {
        // A host restart aborts the HTTP requests running in it, as the host does: a status poll caught by it fails, and
        // the next one is asked again (run 18 of the fresh-clone loop saw one answered 500).
        var end = restarted ? await WaitForEndThroughRestartsAsync(client, id) : await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(90));
        Assert.True((string?)end["status"] == expected.ToWire(), $"ended {end.ToJsonString()}");
        // The orchestration agrees with the record: its instance completes (a bookkeeping failure that escaped would
        // have failed it). It may still be retrying a write that followed the record's (the event), so wait for it.
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var instance = await runner.Services.GetRequiredService<DurableTaskClient>().WaitForInstanceCompletionAsync(id, wait.Token);
        Assert.True(runner.Faults.Injected == _injectedBefore + 1, $"{runner.Faults.Injected - _injectedBefore} faults were injected; the test is about exactly one");
        var problems = "";
        for (var i = 0; i < 150; i++)
        {
            problems = await ProjectionProblemsAsync(id);
            if (problems.Length == 0)
            {
                break;
            }
            await Task.Delay(200);
        }
        Assert.True(problems.Length == 0, problems);
        var job = (await runner.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(expected, job.Status);
        Assert.Null(job.Error);
        if (expected == JobStatus.Completed)
        {
            Assert.Equal(OrchestrationRuntimeStatus.Completed, instance?.RuntimeStatus);
            Assert.Equal(100, job.Progress);
            // One attempt per step: a bookkeeping fault is retried by the engine, not charged to the handler's policy.
            Assert.Equal(3, job.TotalAttempts);
            var logs = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray().Select(l => (string)l!["message"]!).ToList();
            var failures = logs.Where(l => l.Contains("failed", StringComparison.OrdinalIgnoreCase)).ToList();
            // A step cut off by the host's stop is not a failure: it says it was interrupted, and then that it started again.
            Assert.Empty(failures);
            var interrupted = logs.Where(l => l.Contains(" interrupted (attempt ", StringComparison.Ordinal)).ToList();
            Assert.True(restarted || interrupted.Count == 0, string.Join(" | ", logs));
            Assert.True(interrupted.Count == 0 || logs.Any(l => l.Contains(") again: ", StringComparison.Ordinal)), string.Join(" | ", logs));
            Assert.Equal(3, (int)JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/result"))!["result"]!["stepsCompleted"]!);
        }
    }

    private async Task<string> ProjectionProblemsAsync(string id)
    {
        var job = (await runner.Store.GetAsync(id, CancellationToken.None))!;
        var problems = new List<string>();
        var rows = new List<TableEntity>();
        await foreach (var row in runner.Storage.JobsTable.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"JobId eq {id}")))
        {
            rows.Add(row);
        }
        var layout = runner.Services.GetRequiredService<IndexLayout>();
        if (rows.Any(r => ProjectionCheck.IsLiveRow(layout, r)))
        {
            problems.Add("still in the live-job index");
        }
        foreach (var partition in new[] { layout.AllPartitionOf(id), TableKeys.OwnerIndexPartition(job.Owner) })
        {
            if (ProjectionCheck.ListRowProblem(layout, job, partition, [.. rows.Where(r => r.PartitionKey == partition)]) is { } problem)
            {
                problems.Add(problem);
            }
        }
        // The owner's partition holds this one job: its counters must count it once, in the record's status.
        var counts = await runner.Services.GetRequiredService<JobCounters>().ReadAsync(new JobListScope.Owner(job.Owner), CancellationToken.None);
        if (ProjectionCheck.CountProblem(job, counts) is { } countProblem)
        {
            problems.Add(countProblem);
        }
        return string.Join("; ", problems);
    }

    private static async Task<string> WaitForListedJobAsync(HttpClient client)
    {
        for (var i = 0; i < 100; i++)
        {
            var jobs = JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!["jobs"]!.AsArray();
            if (jobs.Count == 1)
            {
                return (string)jobs[0]!["id"]!;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("The recorded job never showed up in the owner's list.");
    }

    private static string Decoded(string queueBody)
    {
        // Queue messages are base64 inside the XML envelope.
        var start = queueBody.IndexOf("<MessageText>", StringComparison.Ordinal);
        var end = queueBody.IndexOf("</MessageText>", StringComparison.Ordinal);
        if (start < 0 || end < start)
        {
            return queueBody;
        }
        var text = queueBody[(start + "<MessageText>".Length)..end];
        try
        {
            return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }
        catch (FormatException)
        {
            return text;
        }
    }
}
