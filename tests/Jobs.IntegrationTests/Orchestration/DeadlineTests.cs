using System.Text.Json;
using Azure.Data.Tables;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;
using Jobs.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Orchestration;

/// <summary>
/// A job's deadline is kept without a durable timer (see <see cref="JobOrchestrator"/>): a timer per job is a queue
/// message kept for the whole timeout by every job, which the storage backend pays for — on Azurite every later queue
/// delete re-sorts an index over all live messages (docs/benchmarks.md). These run on the real engine and read the task
/// hub's own History table.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class DeadlineTests(RunnerFixture runner)
{
    private readonly string _owner = "deadline-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task AJobThatEndsInTime_LeavesNoTimerInItsHistory()
    {
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 3 } }))["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(client, id);
        Assert.Equal("completed", (string?)end["status"]);
        // The record ends in the last activity; the instance a moment later, when the orchestration returns.
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await runner.Services.GetRequiredService<DurableTaskClient>().WaitForInstanceCompletionAsync(id, wait.Token);

        var events = await HistoryEventsAsync(id);
        Assert.Contains("ExecutionCompleted", events);
        Assert.DoesNotContain("TimerCreated", events);
    }

    [Fact]
    public async Task AStepStillRunningAtTheDeadline_IsStoppedThen_AndTheJobTimesOut_WithTheStepsLines()
    {
        // Each step waits 3 s in quarters (its token cancels the wait); the deadline is 1 s after the start.
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 2, delayMs = 3000, timeoutSeconds = 1 } }))["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(client, id);
        var job = JsonDocument.Parse(await client.GetStringAsync($"/api/jobs/{id}")).RootElement;
        // The one timed-out ending (the sweep would write the same); the step it stopped is the record's.
        Assert.Equal(("timed_out", JobOutcome.TimedOut(job.GetProperty("deadline").GetDateTimeOffset()).Message, "step-1"),
            ((string?)end["status"], (string?)end["message"], (string?)end["step"]));

        var lines = JsonDocument.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=100")).RootElement.GetProperty("lines")
            .EnumerateArray().Select(l => l.GetProperty("message").GetString()).ToList();
        // Stopped by the deadline's token, not ended when the 3-s step would have ended (this runner has no sweep). Said by
        // the step's own lines, not by the time the ending took, which a loaded machine stretches.
        Assert.Contains("Step step-1 stopped: the job's deadline passed.", lines);
        Assert.DoesNotContain(lines, l => l!.StartsWith("Step step-1 completed", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l!.StartsWith("Step step-2", StringComparison.Ordinal));
        Assert.DoesNotContain("TimerCreated", await HistoryEventsAsync(id));
    }

    [Fact]
    public async Task AnInstanceStartedByTheEarlierOrchestration_ReplaysItsDeadlineTimer_AndCompletes()
    {
        // Instances in flight across the upgrade carry a plan without a revision: their history begins with the deadline
        // timer the earlier orchestration created, so a replay must create it again or the engine fails the instance as
        // non-deterministic. Here such a plan is started directly and runs to its end on the current code.
        var handler = runner.Services.GetRequiredService<JobHandlerRegistry>().Get(DemoStepsHandler.TypeName);
        var input = JsonSerializer.SerializeToElement(new { steps = 2 }, JobJson.Options);
        var now = runner.Store.Now;
        var job = await runner.Store.CreateAsync(new Job
        {
            Id = Guid.NewGuid().ToString("N"), Type = DemoStepsHandler.TypeName, Status = JobStatus.Pending, Owner = _owner, Input = input,
            StepCount = 2, CreatedAt = now, UpdatedAt = now, Deadline = now.AddHours(1),
        }, CancellationToken.None);
        var plan = new JobPlan(job.Id, job.Type, handler.PlanSteps(handler.ParseInput(input)), job.Deadline!.Value);
        Assert.Equal(0, plan.Revision);
        var durable = runner.Services.GetRequiredService<DurableTaskClient>();
        await durable.ScheduleNewOrchestrationInstanceAsync(nameof(JobOrchestrator), plan, new StartOrchestrationOptions(job.Id));

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var instance = await durable.WaitForInstanceCompletionAsync(job.Id, wait.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, instance.RuntimeStatus);
        Assert.Equal(JobStatus.Completed, (await runner.Store.GetAsync(job.Id, CancellationToken.None))!.Status);
        Assert.Contains("TimerCreated", await HistoryEventsAsync(job.Id));
    }

    private async Task<List<string>> HistoryEventsAsync(string instanceId)
    {
        var history = new TableClient(TestStorage.ConnectionString, runner.HubName + "History");
        var events = new List<string>();
        await foreach (var row in history.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {instanceId}")))
        {
            events.Add(row.GetString("EventType") ?? "");
        }
        return events;
    }
}
