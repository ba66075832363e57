using System.Net;
using System.Text.Json.Nodes;
using Jobs.Functions.Model;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// Acts on job orchestrations through the native Durable Functions HTTP API — as admins, Durable Functions Monitor and
/// the official Durable clients do, behind the service's back — and checks that the record still tells the truth
/// once the reconciler (every second here, 1 s grace) has run.
/// </summary>
[Collection(FaultRunnerCollection.Name)]
public sealed class OutOfBandTests(FaultRunnerFixture runner)
{
    private readonly string _owner = "oob-" + Guid.NewGuid().ToString("N")[..10];

    private Jobs.Functions.Storage.IndexLayout Layout => runner.Services.GetRequiredService<Jobs.Functions.Storage.IndexLayout>();

    private string Native(string id, string action = "") =>
        $"/runtime/webhooks/durabletask/instances/{id}{action}{(action.Contains('?', StringComparison.Ordinal) ? "&" : "?")}code={runner.SystemKey}";

    [Fact]
    public async Task NativeTerminate_EndsTheJobCancelled_WithTheReason()
    {
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 3, delayMs = 2000 } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "running");

        using (var terminate = await client.PostAsync(Native(id, "/terminate?reason=ops%20stopped%20it"), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, terminate.StatusCode);
        }

        var end = await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(30));
        Assert.Equal("cancelled", (string?)end["status"]);
        var job = (await runner.Store.GetAsync(id, default))!;
        Assert.Contains("ops stopped it", job.Message, StringComparison.Ordinal);
        Assert.True(job.Progress < 100);
        // The list rows follow the record's ending (its projection is written after it): wait for them.
        string? listed = null;
        await Conditions.WaitUntilAsync(async () =>
        {
            listed = (string?)JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!["jobs"]!.AsArray().Single(j => (string?)j!["id"] == id)!["status"];
            return listed != "running";
        }, "the job's list rows show its ending");
        Assert.Equal("cancelled", listed);
    }

    [Fact]
    public async Task NativeFilteredPurgeOfARunningJob_EndsItFailed_SayingTheOrchestrationIsGone()
    {
        using var client = runner.Client(_owner);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 3, delayMs = 1000 } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "running");

        // Purging one live instance is refused (extension 3.18.0's HttpApiHandler.HandleDeleteHistoryByIdRequestAsync
        // answers 412); a purge by filter is not checked (HandleDeleteHistoryWithFiltersRequestAsync), and the Azure
        // Storage backend deletes a running instance that matches — what an operator's bulk clean-up can do.
        using (var single = await client.DeleteAsync(Native(id)))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, single.StatusCode);
        }
        var from = Uri.EscapeDataString(before.UtcDateTime.ToString("O"));
        using (var purge = await client.DeleteAsync($"/runtime/webhooks/durabletask/instances?createdTimeFrom={from}&runtimeStatus=Running&code={runner.SystemKey}"))
        {
            Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        }

        var end = await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(30));
        Assert.Equal("failed", (string?)end["status"]);
        var job = (await runner.Store.GetAsync(id, default))!;
        Assert.Equal("OrchestrationMissing", job.Error?.Type);
        Assert.Contains("purged", job.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordThatMissedItsCompletion_TakesTheOutcomeOfItsCompletedOrchestration()
    {
        // A job whose orchestration completed while its record still says running (the ending was lost, e.g. the
        // record was rolled back by an operator's restore): the reconciler applies the orchestration's own outcome.
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        // Put the record back to running (and back into the live-job index) behind the engine's back.
        var (ended, running) = await RollBackAsync(id, ended => ended with { Status = JobStatus.Running, CompletedAt = null, Result = null, Progress = 50, Message = "Running step-1" });
        await runner.Storage.JobsTable.UpsertEntityAsync(Jobs.Functions.Storage.LiveJobIndex.Row(Layout.AllPartitionOf(id), running, ended.Deadline!.Value, 0));

        var end = await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(30));
        Assert.Equal("completed", (string?)end["status"]);
        var job = (await runner.Store.GetAsync(id, default))!;
        Assert.Equal(1, job.Result?.GetProperty("stepsCompleted").GetInt32());
        Assert.Equal(100, job.Progress);
    }

    [Fact]
    public async Task RecordThatMissedItsFailure_TakesTheFailureDetailsOfItsFailedOrchestration()
    {
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 2, failAtStep = 2 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        var (ended, running) = await RollBackAsync(id, ended => ended with { Status = JobStatus.Running, CompletedAt = null, Error = null, Message = "Running step-2" });
        Assert.Equal(JobStatus.Failed, ended.Status);
        await runner.Storage.JobsTable.UpsertEntityAsync(Jobs.Functions.Storage.LiveJobIndex.Row(Layout.AllPartitionOf(id), running, ended.Deadline!.Value, 0));

        var end = await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(30));
        Assert.Equal("failed", (string?)end["status"]);
        var job = (await runner.Store.GetAsync(id, default))!;
        // The orchestration's own failure names the handler's exception. (The Azure Storage backend under the runner
        // keeps only its text, in the output; where failure details exist, the innermost one is used.)
        Assert.Contains(ended.Error!.Message, job.Error?.Message, StringComparison.Ordinal);
        Assert.Equal("step-2", job.Error?.Step);
    }

    /// <summary>
    /// Rolls the settled, ended record back (as an operator's restore would), under its ETag. A reconciler visit that read
    /// the live-job row just before it went may still confirm the projection once more after the record looked settled
    /// (a 412 here): then settle and roll back again. Bounded.
    /// </summary>
    private async Task<(Job Ended, Job RolledBack)> RollBackAsync(string id, Func<Job, Job> rollBack)
    {
        for (var attempt = 1; ; attempt++)
        {
            var ended = await SettledAsync(id);
            var rolledBack = rollBack(ended);
            try
            {
                var stamp = Jobs.Functions.Storage.JobStamp.Of(ended)!;
                await runner.Storage.JobsTable.UpdateEntityAsync(Jobs.Functions.Storage.JobEntity.FromJob(rolledBack, stamp), stamp.ETag, Azure.Data.Tables.TableUpdateMode.Replace);
                return (ended, rolledBack);
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 412 && attempt < 5)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>
    /// The ended record once its ending is fully projected: the record turns terminal first, then its list rows are
    /// written and its live-job row removed, last. A rollback before that would race the removal (losing the live-job
    /// row it re-adds). Bounded.
    /// </summary>
    private async Task<Job> SettledAsync(string id)
    {
        var live = runner.Services.GetRequiredService<Jobs.Functions.Storage.LiveJobIndex>();
        for (var i = 0; i < 200; i++)
        {
            var job = (await runner.Store.GetAsync(id, default))!;
            if (job.Status.IsTerminal() && !(await live.ReadAsync(null, 10_000, default)).Any(r => r.JobId == id))
            {
                return job;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"The ending of job {id} was never fully projected.");
    }

    [Fact]
    public async Task ListRowsAndLiveJobRowWithoutARecord_AreRemovedByTheReconciler()
    {
        // A create that wrote its list rows and live-job row and then failed before its record (a 503, no retry):
        // nothing is live, and neither a phantom listing nor the row may linger.
        var live = runner.Services.GetRequiredService<Jobs.Functions.Storage.LiveJobIndex>();
        var projector = runner.Services.GetRequiredService<Jobs.Functions.Storage.JobProjector>();
        var now = runner.Store.Now;
        var phantom = new Job
        {
            Id = Guid.NewGuid().ToString("N"), Type = "demo.steps", Status = JobStatus.Pending, Owner = _owner,
            Entity = new EntityRef("order", "o-1"), CreatedAt = now, UpdatedAt = now, Deadline = now.AddHours(1),
        };
        // A creation's projection goes before its record; this one's record never comes.
        await projector.ApplyAsync(phantom, new Jobs.Functions.Storage.JobStamp(default, 1, now), Jobs.Functions.Storage.Expected.Nothing, default);
        Assert.Equal(18, await RowsOfAsync(phantom.Id)); // four list rows and two markers in each of three scopes; the live-job row is not one

        var gone = false;
        for (var i = 0; i < 100 && !gone; i++)
        {
            await Task.Delay(200);
            gone = !(await live.ReadAsync(null, 10_000, default)).Any(r => r.JobId == phantom.Id);
        }
        Assert.True(gone, "the stray live-job row was never removed");
        Assert.Equal(0, await RowsOfAsync(phantom.Id));
    }

    private async Task<int> RowsOfAsync(string id)
    {
        var rows = 0;
        await foreach (var row in runner.Storage.JobsTable.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"JobId eq {id}")))
        {
            rows += ProjectionCheck.IsLiveRow(Layout, row) ? 0 : 1;
        }
        return rows;
    }
}
