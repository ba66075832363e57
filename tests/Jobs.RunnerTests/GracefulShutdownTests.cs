using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// SIGTERM of the runner in the middle of a step, then a fresh start, under host.json's <c>useGracefulShutdown</c>:
/// true (the sample host.json) and false (the extension's default; <see cref="ForcedShutdownTests"/>). Graceful: the work-item and control queues keep their
/// production visibility timeout (5 minutes): a job that finishes within a minute of the restart proves nothing was
/// left locked by the stop. Either the running step finishes during the stop and its result is kept (it does not run
/// again), or — when it outlasts <c>gracefulShutdownTimeout</c> — it is cancelled and released, and runs again at once.
/// </summary>
[TakesAbout(40)]
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task Sigterm_MidStep_LetsTheStepFinish_AndTheRestartedRunnerGoesOnAtOnce()
    {
        using var runner = new RunnerProcess(_ => { });
        await runner.StartAsync();
        var id = await StartJobAsync(runner, steps: 4, delayMs: 3000);
        // Step 2 running: step 1 is in the history, step 2 is an activity in flight.
        await RunnerFixture.PollStatusAsync(runner.Client, id, s => (int)s["stepIndex"]! == 1 && (string?)s["status"] == "running", TimeSpan.FromSeconds(60));

        await runner.TerminateAsync(TimeSpan.FromSeconds(60));
        await runner.StartAsync();

        var end = await RunnerFixture.WaitForEndAsync(runner.Client, id, TimeSpan.FromSeconds(60));
        Assert.Equal("completed", (string?)end["status"]);
        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(runner.Client, id);
        foreach (var step in new[] { "step-1", "step-2", "step-3", "step-4" })
        {
            // The step running at SIGTERM finished during the stop: it was not run again.
            Assert.Single(lines, l => l.StartsWith($"Step {step} started", StringComparison.Ordinal));
            Assert.Single(lines, l => l.StartsWith($"Step {step} completed", StringComparison.Ordinal));
        }
        Assert.DoesNotContain(lines, l => l.Contains("failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sigterm_WithAStepLongerThanTheGracePeriod_ReleasesIt_AndTheRestartedRunnerRunsItAgainAtOnce()
    {
        using var runner = new RunnerProcess(durable => durable["gracefulShutdownTimeout"] = "00:00:02");
        await runner.StartAsync();
        var id = await StartJobAsync(runner, steps: 2, delayMs: 8000);
        await RunnerFixture.PollStatusAsync(runner.Client, id, s => (int)s["stepIndex"]! == 0 && (string?)s["status"] == "running", TimeSpan.FromSeconds(60));

        await runner.TerminateAsync(TimeSpan.FromSeconds(60));
        await runner.StartAsync();

        var end = await RunnerFixture.WaitForEndAsync(runner.Client, id, TimeSpan.FromSeconds(60));
        Assert.Equal("completed", (string?)end["status"]);
        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(runner.Client, id);
        // The interrupted attempt was released, not failed: the step ran again as the same attempt and completed once.
        Assert.Equal(2, lines.Count(l => l.StartsWith("Step step-1 started (attempt 1)", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("Step step-1 started (attempt 2)", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("Step step-1 completed", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("Step step-2 started", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("Step step-2 completed", StringComparison.Ordinal));
    }

    internal static async Task<string> StartJobAsync(RunnerProcess runner, int steps, int delayMs) =>
        (string)(await RunnerFixture.CreateJobAsync(runner.Client, new { type = "demo.steps", input = new { steps, delayMs } }))["id"]!;
}

/// <summary>
/// SIGTERM with <c>useGracefulShutdown</c> off, in a class of its own so that its wait for the visibility timeout runs
/// beside <see cref="GracefulShutdownTests"/> instead of after them.
/// </summary>
[TakesAbout(50)]
public sealed class ForcedShutdownTests
{
    /// <summary>
    /// useGracefulShutdown false, as the Durable extension's default (DurableTaskOptions.UseGracefulShutdown = false;
    /// DurableTaskExtension.StopTaskHubWorkerIfIdleAsync → TaskHubWorker.StopAsync(isForced: true)): the running step is
    /// cancelled at once — it does not get the 30-second grace in which this 8-second step would have finished — and
    /// nothing is reported for it, so its work item stays locked (counted in the queue, not visible) until its visibility
    /// timeout, then runs again as the same attempt. Shortened to 30 s by the test-only overrides, as CrashRecoveryTests.
    /// </summary>
    [Fact]
    public async Task Sigterm_WithGracefulShutdownOff_CancelsTheStepAtOnce_AndItRunsAgainAfterTheVisibilityTimeout()
    {
        using var runner = new RunnerProcess(durable => durable["useGracefulShutdown"] = false, new Dictionary<string, string>
        {
            ["Jobs__Runner__TestOverrides__WorkItemVisibilityTimeout"] = "00:00:30",
            ["Jobs__Runner__TestOverrides__ControlQueueVisibilityTimeout"] = "00:00:30",
        });
        await runner.StartAsync();
        var id = await GracefulShutdownTests.StartJobAsync(runner, steps: 2, delayMs: 8000);
        await RunnerFixture.PollStatusAsync(runner.Client, id, s => (int)s["stepIndex"]! == 0 && (string?)s["status"] == "running", TimeSpan.FromSeconds(60));

        await runner.TerminateAsync(TimeSpan.FromSeconds(60));
        var workItems = new Azure.Storage.Queues.QueueClient(TestStorage.ConnectionString, runner.HubName.ToLowerInvariant() + "-workitems");
        Assert.Equal(1, (await workItems.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.Empty((await workItems.PeekMessagesAsync()).Value);

        await runner.StartAsync();
        var end = await RunnerFixture.WaitForEndAsync(runner.Client, id, TimeSpan.FromSeconds(120));
        Assert.Equal("completed", (string?)end["status"]);
        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(runner.Client, id);
        // Cancelled by the stop, not failed: the step ran again as the same attempt and completed once.
        Assert.Equal(2, lines.Count(l => l.StartsWith("Step step-1 started (attempt 1)", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("Step step-1 started (attempt 2)", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("Step step-1 completed", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("Step step-2 completed", StringComparison.Ordinal));
    }
}
