using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// <c>kill -9</c> of the runner in the middle of a job, then a fresh start: the job finishes, no finished step runs
/// again, nothing is lost. The runner runs as a real child process (the published Jobs.LocalRunner.dll), with a
/// content root of its own: the repository's host.json unchanged, and a local.settings.json that points at the test
/// Azurite and gives the run a private task hub through the host's own override (AzureFunctionsJobHost__…).
/// </summary>
[TakesAbout(42)]
public sealed class CrashRecoveryTests : IDisposable
{
    // Messages a killed worker held reappear after their visibility timeout (5 minutes by default, which host.json
    // keeps for production). The extension refuses a control-queue timeout under 1 minute, so host.json cannot
    // shorten it to 30 s: the runner's TEST-ONLY overrides do.
    internal static RunnerProcess NewRunner() => new(_ => { }, new Dictionary<string, string>
    {
        ["Jobs__Runner__TestOverrides__WorkItemVisibilityTimeout"] = "00:00:30",
        ["Jobs__Runner__TestOverrides__ControlQueueVisibilityTimeout"] = "00:00:30",
    });

    private readonly RunnerProcess _runner = NewRunner();

    [Fact]
    public async Task KilledMidJob_ResumesAtTheUnfinishedStep_AndFinishes()
    {
        await _runner.StartAsync();
        var client = _runner.Client;

        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 4, delayMs = 2000 } });
        var id = (string)created["id"]!;
        // Step 3 running means steps 1 and 2 have finished and are in the durable history.
        await RunnerFixture.PollStatusAsync(client, id, s => (int)s["stepIndex"]! == 2 && (string?)s["status"] == "running", TimeSpan.FromSeconds(60));

        await _runner.KillAsync();
        await _runner.StartAsync();

        var end = await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(150));
        Assert.Equal("completed", (string?)end["status"]);

        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(client, id);
        // Finished steps ran exactly once; the interrupted step ran again; nothing ran twice to completion.
        Assert.Single(lines, l => l.StartsWith("Step step-1 started", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("Step step-2 started", StringComparison.Ordinal));
        foreach (var step in new[] { "step-1", "step-2", "step-3", "step-4" })
        {
            Assert.Single(lines, l => l.StartsWith($"Step {step} completed", StringComparison.Ordinal));
        }
        Assert.Single(lines, l => l.StartsWith("Job completed", StringComparison.Ordinal));
        var job = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal(4, (int)job["result"]!["stepsCompleted"]!);
    }

    public void Dispose() => _runner.Dispose();
}

/// <summary>
/// <c>kill -9</c> in the middle of a parallel step (<see cref="CrashRecoveryTests"/>), in a class of its own so that its
/// wait for the visibility timeout runs beside theirs.
/// </summary>
[TakesAbout(38)]
public sealed class ParallelStepCrashRecoveryTests : IDisposable
{
    private readonly RunnerProcess _runner = CrashRecoveryTests.NewRunner();

    [Fact]
    public async Task KilledInAParallelStep_RunsOnlyTheUnfinishedItemsAgain()
    {
        await _runner.StartAsync();
        var client = _runner.Client;
        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.fanout", input = new { items = new[] { "a", "b", "c", "d" }, parallelism = 2, delayMs = 2500 } });
        var id = (string)created["id"]!;
        // At least one item has finished (and is in the durable history) once the record counts it.
        await RunnerFixture.PollStatusAsync(client, id, s => ((string?)s["message"])?.Contains(" of 4 items done", StringComparison.Ordinal) == true
            && !((string?)s["message"])!.Contains(" 0 of 4", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var killedAt = DateTimeOffset.UtcNow;
        await _runner.KillAsync();
        await _runner.StartAsync();

        var end = await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(150));
        Assert.Equal("completed", (string?)end["status"]);
        var results = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/result"))!["result"]!["results"]!.AsArray();
        Assert.Equal(["a", "b", "c", "d"], results.Select(r => (string)r!["item"]!));
        // Each item ran to its end once: an item finished before the kill kept its first run's result; the rest ran after.
        Assert.Contains(results, r => r!["endedAt"]!.GetValue<DateTimeOffset>() < killedAt);
        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(client, id);
        foreach (var item in new[] { "a", "b", "c", "d" })
        {
            Assert.Single(lines, l => l.EndsWith($"processed '{item}'", StringComparison.Ordinal));
        }
    }

    public void Dispose() => _runner.Dispose();
}
