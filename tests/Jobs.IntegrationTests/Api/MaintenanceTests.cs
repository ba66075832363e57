using System.Net;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Api;

/// <summary>The timer functions, fired by the runner's real timer triggers (every second in this fixture).</summary>
[Collection(MaintenanceRunnerCollection.Name)]
public sealed class MaintenanceTests(MaintenanceRunnerFixture runner)
{
    [Fact]
    public async Task Retention_RemovesEveryTraceOfAnOldEndedJob()
    {
        using var client = runner.Client("ret-" + Guid.NewGuid().ToString("N")[..8]);
        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 2 }, entity = new { type = "release", id = "r1" }, idempotencyKey = "k1" });
        var id = (string)created["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        // Two steps: the first one's output is kept with the job (for a resume), and must go with it.
        Assert.NotNull(await runner.Store.ReadStepOutputAsync(id, 0, CancellationToken.None));
        Assert.NotEmpty(JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs"))!["lines"]!.AsArray());

        // Retention here is a few seconds; the timer runs every second.
        Assert.Equal(HttpStatusCode.NotFound, await StatusOnceRetentionRanAsync(client, id));

        var table = runner.Storage.JobsTable;
        var leftovers = await table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"JobId eq {id}")).ToListAsync();
        Assert.Empty(leftovers);
        Assert.Null(await runner.Store.GetAsync(id, CancellationToken.None));
        // The record's partition held its log lines too: nothing of it may be left.
        var partition = await table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {id}")).ToListAsync();
        Assert.Empty(partition);
        var durable = runner.Services.GetRequiredService<DurableTaskClient>();
        Assert.Null(await durable.GetInstanceAsync(id));
        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>(TableKeys.IdempotencyPartition(await OwnerOf(client)), "k1")).HasValue);
    }

    [Fact]
    public async Task AJobWhoseHandlerIgnoresItsToken_EndsTimedOutOnce_WhileItsHandlerStillHolds_AndItsOrchestrationStops()
    {
        // The orchestration stops a step at the deadline through the handler's token; this handler does not listen, and
        // holds until the test opens its gate (not for a fixed time that a loaded machine could outlast). The sweep is the
        // backstop: a grace (1 s here) after the deadline (1 s) it ends the job and terminates the orchestration while
        // the step still holds. On a loaded machine the orchestration can get there first (its step's activity starts
        // after the deadline and stops at once). Either way a client sees one ending: the one timed-out ending of this
        // deadline, written once, and the orchestration stopped.
        using var client = runner.Client("stubborn-owner");
        using var gate = StepGates.Close();
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = StubbornHandler.TypeName, input = new { gate = gate.Name } }))["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(30));
        var job = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!;
        var timedOut = JobOutcome.TimedOut(Time(job["deadline"]));
        Assert.Equal(("timed_out", timedOut.Message), ((string?)end["status"], (string?)end["message"]));
        Assert.Null(end["error"]);
        var endings = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray()
            .Select(l => (string)l!["message"]!).Where(l => l.StartsWith("Job ", StringComparison.Ordinal));
        Assert.Equal([timedOut.LogLine()], endings);

        var durable = runner.Services.GetRequiredService<DurableTaskClient>();
        OrchestrationMetadata? instance = null;
        for (var i = 0; i < 50 && instance?.IsCompleted != true; i++)
        {
            await Task.Delay(200);
            instance = await durable.GetInstanceAsync(id);
        }
        Assert.True(instance?.IsCompleted, $"the orchestration is {instance?.RuntimeStatus}");
        Assert.Equal(JobStatus.TimedOut, (await runner.Store.GetAsync(id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Sweep_TimesOutALiveJobPastItsDeadline_ThatNoOrchestrationWillEnd()
    {
        // A job whose orchestration never started (e.g. scheduling was lost): only the sweep can end it.
        var now = runner.Store.Now;
        var job = await runner.Store.CreateAsync(new Job
        {
            Id = Guid.NewGuid().ToString("N"),
            Type = "demo.steps",
            Status = JobStatus.Pending,
            Owner = "sweep-owner",
            StepCount = 1,
            CreatedAt = now,
            UpdatedAt = now,
            Deadline = now.AddSeconds(1),
        }, CancellationToken.None);

        using var client = runner.Client("sweep-owner");
        var end = await RunnerFixture.WaitForEndAsync(client, job.Id, TimeSpan.FromSeconds(30));
        Assert.Equal(("timed_out", JobOutcome.TimedOut(job.Deadline!.Value).Message), ((string?)end["status"], (string?)end["message"]));
        // The live-job row is removed just after the record changes: allow it a moment.
        var active = new List<TableEntity>();
        var layout = runner.Services.GetRequiredService<IndexLayout>();
        for (var i = 0; i < 50; i++)
        {
            active = await runner.Storage.JobsTable
                .QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {layout.AllPartitionOf(job.Id)} and JobId eq {job.Id}")).ToListAsync();
            active = [.. active.Where(r => ProjectionCheck.IsLiveRow(layout, r))];
            if (active.Count == 0)
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.Empty(active);
    }

    [Fact]
    public async Task Retention_SkipsAnEndedJobWhoseOrchestrationStillRuns_AndStillRemovesTheOthers()
    {
        // The host's durable client refuses to purge a live instance; one such job must not stop the run.
        using var client = runner.Client("ret-live-" + Guid.NewGuid().ToString("N")[..8]);
        // Its step reports progress every quarter (30 s here); the first report would see the ended record and stop the
        // step, so it must come well after the other job's retention (about 8 s): with a 30-s step it came at 7.5 s.
        var live = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1, delayMs = 120_000 } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, live, s => (string?)s["status"] == "running");
        // Its record ends behind the orchestration's back; the step keeps running.
        await runner.Store.UpdateAsync(live, current => JobTransitions.End(current, JobOutcome.CancelledBefore("step-1"), runner.Store.Now), CancellationToken.None);
        var done = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, done);

        // Retention here is a few seconds; the timer runs every second. The ended job goes; the live one stays.
        Assert.Equal(HttpStatusCode.NotFound, await StatusOnceRetentionRanAsync(client, done));
        Assert.NotNull(await runner.Store.GetAsync(live, CancellationToken.None));
        Assert.True((await runner.Services.GetRequiredService<DurableTaskClient>().GetInstanceAsync(live))?.IsRunning);
    }

    private static DateTimeOffset Time(JsonNode? value) => DateTimeOffset.Parse((string)value!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Polls the job (bounded, 40 s) until retention has removed it; returns the last status seen.</summary>
    private static async Task<HttpStatusCode> StatusOnceRetentionRanAsync(HttpClient client, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(40);
        HttpStatusCode status;
        do
        {
            await Task.Delay(500);
            using var response = await client.GetAsync($"/api/jobs/{id}");
            status = response.StatusCode;
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);
        return status;
    }

    private static async Task<string> OwnerOf(HttpClient client) =>
        (string)JsonNode.Parse(await client.GetStringAsync("/api/jobs?limit=1"))!["jobs"]!.AsArray().FirstOrDefault()?["owner"]!
        ?? client.DefaultRequestHeaders.GetValues(Jobs.Functions.Identity.CallerResolver.PrincipalHeader).Select(h => Jobs.Functions.Identity.CallerResolver.Parse(h).Id).First();
}

internal static class AsyncEnumerableExtensions
{
    public static async Task<List<T>> ToListAsync<T>(this IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }
        return list;
    }
}
