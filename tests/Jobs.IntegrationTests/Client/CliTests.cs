using System.Diagnostics;
using System.Text.Json.Nodes;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Client;

/// <summary>The <c>jobsctl</c> command, run as a process against the runner, as a person or a script runs it.</summary>
[Collection(RunnerCollection.Name)]
public sealed class CliTests(RunnerFixture runner)
{
    private readonly string _owner = "cli-" + Guid.NewGuid().ToString("N")[..8];

    private Task<(int Exit, string Out, string Error)> JobsAsync(params string[] args) => JobsAtAsync(runner.BaseAddress.ToString(), args);

    private async Task<(int Exit, string Out, string Error)> JobsAtAsync(string url, params string[] args)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = Path.Combine(RepoPaths.Root, "src", "Cli", "bin", configuration, "net10.0", "jobsctl.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { dll, "--url", url, "--user", _owner }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task CreateWait_ListShowLogs_AndTheExitCodesTellTheOutcome()
    {
        var input = Path.Combine(Path.GetTempPath(), $"{_owner}.json");
        await File.WriteAllTextAsync(input, """{"steps":2}""");

        var created = await JobsAsync("create", "demo.steps", "--input", "@" + input, "--correlation-id", "from-cli", "--wait");
        Assert.True(created.Exit == 0, created.Out + created.Error);
        var id = created.Out.Split('\n')[0].Replace("created ", "", StringComparison.Ordinal).Trim();
        Assert.Contains("[####################] 100% completed", created.Out, StringComparison.Ordinal);
        Assert.EndsWith($"{id} completed", created.Out.Trim(), StringComparison.Ordinal);

        var list = await JobsAsync("list", "--json", "--status", "completed");
        Assert.Equal(0, list.Exit);
        Assert.Contains(JsonNode.Parse(list.Out)!.AsArray(), j => (string?)j!["id"] == id && (string?)j["correlationId"] == "from-cli");
        var byCorrelation = await JobsAsync("list", "--json", "--correlation-id", "from-cli");
        Assert.Equal([id], JsonNode.Parse(byCorrelation.Out)!.AsArray().Select(j => (string)j!["id"]!));

        var show = await JobsAsync("show", id, "--json");
        Assert.Equal(2, (int)JsonNode.Parse(show.Out)!["input"]!["steps"]!);
        var logs = await JobsAsync("logs", id);
        Assert.Contains("Job completed", logs.Out, StringComparison.Ordinal);

        // A failed job is a non-zero exit after --wait; bad input is refused naming the field; no service is 4.
        var failed = await JobsAsync("create", "demo.steps", "--input", """{"steps":1,"failAtStep":1}""", "--wait");
        Assert.Equal(1, failed.Exit);
        Assert.Contains("failed", failed.Out, StringComparison.Ordinal);
        var invalid = await JobsAsync("create", "demo.steps", "--input", """{"steps":0}""");
        Assert.Equal(3, invalid.Exit);
        Assert.Contains("input.steps", invalid.Error, StringComparison.Ordinal);
        var types = await JobsAsync("types");
        Assert.Contains("demo.steps", types.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_PrintsTheCallersTotalsPerType_AndRefusesAnIntervalTheRollUpsDoNotKeep()
    {
        var created = await JobsAsync("create", "demo.steps", "--input", """{"steps":1}""", "--wait");
        Assert.True(created.Exit == 0, created.Out + created.Error);
        var counters = runner.Services.GetRequiredService<Jobs.Functions.Storage.JobCounters>();
        JsonNode metrics = null!;
        await Conditions.WaitUntilAsync(async () =>
        {
            await counters.FoldAsync(CancellationToken.None); // a reconciler run (this runner runs no timers)
            var json = await JobsAsync("metrics", "--json", "--interval", "hour", "--since", "02:00:00");
            metrics = JsonNode.Parse(json.Out)!;
            return metrics["series"]!.AsArray().Any(s => (long)s!["totals"]!["completed"]! == 1);
        }, "the CLI's metrics count the completed job");
        Assert.Equal(("owner", _owner, "hour"), ((string?)metrics["scope"], (string?)metrics["owner"], (string?)metrics["interval"]));

        var text = await JobsAsync("metrics", "--type", "demo.steps");
        Assert.Equal(0, text.Exit);
        Assert.Matches(@"demo\.steps\s+1\s+1\s+1\s+0\s+0\s+0", text.Out);
        var bad = await JobsAsync("metrics", "--interval", "day");
        Assert.Equal(3, bad.Exit);
        Assert.Contains("interval", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rerun_FromTheFailedStep_WaitsForTheNewJob_AndRefusesARunningOne()
    {
        var failed = await JobsAsync("create", "demo.steps", "--input", """{"steps":3,"failAtStep":2,"recoverOnRerun":true}""", "--wait");
        Assert.Equal(1, failed.Exit);
        var original = failed.Out.Split('\n')[0].Replace("created ", "", StringComparison.Ordinal).Trim();

        var resumed = await JobsAsync("rerun", original, "--from-failed-step", "--wait");
        Assert.True(resumed.Exit == 0, resumed.Out + resumed.Error);
        Assert.Contains($", rerun of {original} (resumes at step step-2)", resumed.Out, StringComparison.Ordinal);
        Assert.Contains("100% completed", resumed.Out, StringComparison.Ordinal);

        var running = (await JobsAsync("create", "demo.steps", "--input", """{"steps":1,"delayMs":600000}""")).Out.Split(' ')[0];
        var refused = await JobsAsync("rerun", running);
        Assert.Equal(3, refused.Exit);
        Assert.Contains("only a job that has ended can be rerun", refused.Error, StringComparison.Ordinal);
        await JobsAsync("cancel", running);
    }

    [Fact]
    public async Task Bulk_RerunsTheFailedJobsOfACorrelationId_AndPrintsWhatWasDone()
    {
        var correlation = "cli-bulk-" + Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 2; i++)
        {
            var failed = await JobsAsync("create", "demo.steps", "--input", """{"steps":1,"failAtStep":1,"recoverOnRerun":true}""", "--correlation-id", correlation, "--wait");
            Assert.Equal(1, failed.Exit);
        }

        var bulk = await JobsAsync("bulk", "rerun", "--status", "failed", "--correlation-id", correlation, "--wait");

        Assert.True(bulk.Exit == 0, bulk.Out + bulk.Error);
        Assert.Contains("completed: 2 matched; done {\"rerun\":2}; skipped {}", bulk.Out, StringComparison.Ordinal);
        var refused = await JobsAsync("bulk", "archive", "--all");
        Assert.Equal(3, refused.Exit);
        Assert.Contains("action", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_StopsARunningJob_AndWatchReportsIt()
    {
        var created = await JobsAsync("create", "demo.steps", "--input", """{"steps":5,"delayMs":2000}""");
        var id = created.Out.Split(' ')[0];
        var cancel = await JobsAsync("cancel", id);
        Assert.Equal(0, cancel.Exit);
        Assert.StartsWith(id, cancel.Out, StringComparison.Ordinal);
        var follow = await JobsAsync("logs", id, "--follow");
        Assert.Equal(0, follow.Exit);
        Assert.Contains($"Cancellation requested by {_owner}", follow.Out, StringComparison.Ordinal);
        Assert.Contains("Job cancelled", follow.Out, StringComparison.Ordinal);
        var watch = await JobsAsync("watch", id);
        Assert.Equal(1, watch.Exit);
        Assert.EndsWith($"{id} cancelled", watch.Out.Trim(), StringComparison.Ordinal);
        var unreachable = await JobsAtAsync("http://127.0.0.1:9", "show", id);
        Assert.Equal(4, unreachable.Exit);
    }
}
