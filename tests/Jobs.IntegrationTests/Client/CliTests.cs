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
    public async Task Tags_SetByCreate_ListByTag_AndShownByShow()
    {
        var tag = "cli-" + Guid.NewGuid().ToString("N")[..8];
        var tagged = await JobsAsync("create", "demo.steps", "--input", """{"steps":1}""", "--tag", tag, "--tag", "team:cli");
        Assert.True(tagged.Exit == 0, tagged.Out + tagged.Error);
        var id = tagged.Out.Split(' ')[0].Trim();
        var other = await JobsAsync("create", "demo.steps", "--input", """{"steps":1}""", "--tag", "team:cli");
        Assert.Equal(0, other.Exit);

        var both = await JobsAsync("list", "--json", "--tag", $"{tag},team:cli");
        Assert.Equal([id], JsonNode.Parse(both.Out)!.AsArray().Select(j => (string)j!["id"]!));
        var show = await JobsAsync("show", id);
        Assert.Contains($"tags {tag} team:cli", show.Out, StringComparison.Ordinal);
        var bad = await JobsAsync("create", "demo.steps", "--input", """{"steps":1}""", "--tag", "no spaces");
        Assert.Equal(3, bad.Exit);
        Assert.Contains("tags[0]", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_PrintsWhoDidWhat_AndAsJsonEachEntryALine()
    {
        var created = await JobsAsync("create", "demo.steps", "--input", """{"steps":1}""", "--wait");
        Assert.True(created.Exit == 0, created.Out + created.Error);
        var id = created.Out.Split('\n')[0].Replace("created ", "", StringComparison.Ordinal).Trim();

        var audit = await JobsAsync("audit", id);
        var json = await JobsAsync("audit", id, "--json");

        Assert.True(audit.Exit == 0, audit.Out + audit.Error);
        var line = Assert.Single(audit.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith($"  created  {_owner} via aad from 127.0.0.1  status=pending", line.TrimEnd(), StringComparison.Ordinal);
        var entry = JsonNode.Parse(Assert.Single(json.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal(("created", _owner), ((string?)entry["action"], (string?)entry["actor"]!["id"]));
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
    public async Task PauseAndResumeType_HoldAQueuedJob_ThatCreateGaveAPriorityAndKey_ThenStartIt()
    {
        var paused = await JobsAsync("--admin", "pause", "demo.limited");
        Assert.True(paused.Exit == 0, paused.Out + paused.Error);
        Assert.StartsWith("demo.limited paused", paused.Out.Trim(), StringComparison.Ordinal);
        try
        {
            var created = await JobsAsync("create", "demo.limited", "--input", """{"delayMs":10}""", "--priority", "7", "--concurrency-key", "tenant-x", "--json");
            Assert.True(created.Exit == 0, created.Out + created.Error);
            var job = JsonNode.Parse(created.Out)!;
            Assert.Equal((7, "tenant-x"), ((int)job["priority"]!, (string?)job["concurrencyKey"]));
            var id = (string)job["id"]!;
            using var api = runner.Client(_owner);
            await RunnerFixture.PollStatusAsync(api, id, s => (string?)s["status"] == "queued");

            var show = await JobsAsync("show", id);
            Assert.Contains("queued  0%  #1 in line", show.Out, StringComparison.Ordinal);
            var types = await JobsAsync("types");
            Assert.Contains("PAUSED; running at most 12 in all, 3 per concurrency key", types.Out, StringComparison.Ordinal);

            var resumed = await JobsAsync("--admin", "resume-type", "demo.limited");
            Assert.True(resumed.Exit == 0, resumed.Out + resumed.Error);
            Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(api, id))["status"]);
        }
        finally
        {
            await JobsAsync("--admin", "resume-type", "demo.limited");
        }
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

    [Fact]
    public async Task Schedules_AddListShowPauseResumeRm_AndBadInputNamesTheField()
    {
        var added = await JobsAsync("schedules", "add", "demo.steps", "--cron", "30 2 * * *", "--time-zone", "Europe/Paris", "--input", """{"steps":1}""", "--overlap", "queue");
        Assert.True(added.Exit == 0, added.Out + added.Error);
        var id = added.Out.Split(' ')[0];
        Assert.Matches(@"^[0-9a-f]{32} next \d{4}-\d\d-\d\dT0[23]:[03]0:00\+0[12]:00$", added.Out.Trim());

        var list = await JobsAsync("schedules", "list", "--json");
        Assert.Contains(JsonNode.Parse(list.Out)!.AsArray(), s => (string?)s!["id"] == id && (string?)s["overlap"] == "queue");
        var show = await JobsAsync("schedules", "show", id);
        Assert.Equal(5, show.Out.Split('\n').Count(l => l.StartsWith("next ", StringComparison.Ordinal)));

        Assert.Equal($"{id} paused", (await JobsAsync("schedules", "pause", id)).Out.Trim());
        Assert.True((bool)JsonNode.Parse((await JobsAsync("schedules", "show", id, "--json")).Out)!["paused"]!);
        Assert.StartsWith($"{id} next ", (await JobsAsync("schedules", "resume", id)).Out, StringComparison.Ordinal);
        Assert.Equal($"{id} removed", (await JobsAsync("schedules", "rm", id)).Out.Trim());
        Assert.Equal(3, (await JobsAsync("schedules", "show", id)).Exit);

        var invalid = await JobsAsync("schedules", "add", "demo.steps", "--cron", "0 2 * * *", "--time-zone", "Mars/Olympus_Mons");
        Assert.Equal(3, invalid.Exit);
        Assert.Contains("timeZone", invalid.Error, StringComparison.Ordinal);
        var usage = await JobsAsync("schedules", "add", "demo.steps", "--cron", "0 2 * * *", "--overlap", "sometimes");
        Assert.Equal(2, usage.Exit);
        Assert.Contains("--overlap", usage.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Artifacts_ListsAnExportsCsv_AndDownload_WritesItToAFile()
    {
        var created = await JobsAsync("create", "jobs.export-csv", "--wait");
        Assert.True(created.Exit == 0, created.Out + created.Error);
        var id = created.Out.Split('\n')[0].Replace("created ", "", StringComparison.Ordinal).Trim();

        var artifacts = await JobsAsync("artifacts", id);
        Assert.Equal(0, artifacts.Exit);
        Assert.StartsWith("jobs.csv  ", artifacts.Out, StringComparison.Ordinal);
        var path = Path.Combine(Path.GetTempPath(), $"{_owner}-jobs.csv");
        try
        {
            var download = await JobsAsync("download", id, "jobs.csv", "--output", path);
            Assert.True(download.Exit == 0, download.Out + download.Error);
            Assert.StartsWith("id,type,status,", await File.ReadAllTextAsync(path), StringComparison.Ordinal);
            var missing = await JobsAsync("download", id, "other.csv", "--output", path + ".2");
            Assert.NotEqual(0, missing.Exit);
            Assert.False(File.Exists(path + ".2"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
