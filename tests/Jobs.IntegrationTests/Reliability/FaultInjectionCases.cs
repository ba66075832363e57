using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// What <see cref="FaultInjectionTests"/> and <see cref="HostRestartFaultTests"/> share: the write paths as the storage
/// pipeline sees them, and the check that a job ended as its handler decided with a true record and list rows. The two
/// run in collections of their own, each on a runner of its own, so the restart cases (each waits out a 30 s visibility
/// timeout) do not hold up the rest.
/// </summary>
public abstract class FaultInjectionCases(FaultRunnerFixture runner) : IDisposable
{
    protected FaultRunnerFixture Runner => runner;

    protected string Owner { get; } = "fault-" + Guid.NewGuid().ToString("N")[..10];
    protected int InjectedBefore { get; } = runner.Faults.Injected;

    public void Dispose() => runner.Faults.Clear();

    protected static object Demo(string? key = null, int delayMs = 300) =>
        new { type = "demo.steps", input = new { steps = 3, delayMs }, idempotencyKey = key };
    /// <summary>The request of each write path, as the storage pipeline sees it (for this test's owner or job).</summary>
    protected Func<StorageRequest, bool> PathOf(string path, Func<string?> jobId) => path switch
    {
        // The record's write that starts step 2, in one transaction with the lines of step 1.
        "step start" => r => jobId() is { } id && IsRecordWrite(r, id) && r.BodyHas("\"Message\":\"Running step-2\""),
        // Progress is written batched (every 250 ms at most) while a step runs.
        "progress" => r => jobId() is { } id && IsRecordWrite(r, id) && r.BodyHas("Step 2 of 3: "),
        // Written by whichever write comes first: a batched flush, or the next step's start.
        "log line" => r => jobId() is { } id && r.IsBatch && r.BodyHas(id) && r.BodyHas("Step 2 of 3 did its work."),
        "list rows on start" => r => r.IsBatch && r.BodyHas(Owner) && r.BodyHas("\"Status\":\"running\""),
        "finish" => r => jobId() is { } id && IsRecordWrite(r, id) && r.BodyHas("\"Status\":\"completed\""),
        // An ending's list rows follow its record; the all-jobs transaction also removes the live-job row.
        "list rows on finish" => r => jobId() is { } id && r.IsBatch && r.BodyHas($"\"JobId\":\"{id}\"") && r.BodyHas("\"Status\":\"completed\""),
        "job event" => r => r.IsQueueSend("job-events") && Decoded(r.Body).Contains(Owner, StringComparison.Ordinal),
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, null),
    };

    /// <summary>This test's job's record inserted: in a transaction with its creation's audit entry (and a resumed job's carried rows).</summary>
    protected bool IsRecordInsert(StorageRequest r) => r.IsBatch && r.BodyHas(Owner) && r.BodyHas("\"RowKey\":\"job\"");

    /// <summary>A write of the job's record: alone, or in a transaction of its partition (with log lines).</summary>
    protected bool IsRecordWrite(StorageRequest r, string id) =>
        r.IsRecordUpdate(runner.JobsTable, id) || (r.IsBatch && r.BodyHas(id) && r.BodyHas("\"RowKey\":\"job\""));

    /// <summary>
    /// Waits (bounded) for the job to end, then for its projections to settle, and checks them against the record:
    /// the expected status with no error, list rows in every scope showing the record's status at its last status
    /// change (and no rows of earlier changes), the projection confirmed, no live-job row.
    /// </summary>
    /// <param name="restarted">The host restarted while a step ran: that step's log may say it was cancelled (it saw its
    /// token), and then that it started again as the same attempt — never any other failure.</param>
    protected static async Task<JsonObject> WaitForEndThroughRestartsAsync(HttpClient client, string id)
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

    protected async Task AssertEndsTrueAsync(HttpClient client, string id, JobStatus expected, bool restarted = false)
    {
        // A host restart aborts the HTTP requests running in it, as the host does: a status poll caught by it fails, and
        // the next one is asked again (run 18 of the fresh-clone loop saw one answered 500).
        var end = restarted ? await WaitForEndThroughRestartsAsync(client, id) : await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(90));
        Assert.True((string?)end["status"] == expected.ToWire(), $"ended {end.ToJsonString()}");
        // The orchestration agrees with the record: its instance completes (a bookkeeping failure that escaped would
        // have failed it). It may still be retrying a write that followed the record's (the event), so wait for it.
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var instance = await runner.Services.GetRequiredService<DurableTaskClient>().WaitForInstanceCompletionAsync(id, wait.Token);
        Assert.True(runner.Faults.Injected == InjectedBefore + 1, $"{runner.Faults.Injected - InjectedBefore} faults were injected; the test is about exactly one");
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

    protected async Task<string> ProjectionProblemsAsync(string id)
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

    protected static async Task<string> WaitForListedJobAsync(HttpClient client)
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

    protected static string Decoded(string queueBody)
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
