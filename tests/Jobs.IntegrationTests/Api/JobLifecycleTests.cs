using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>Jobs created over HTTP run through the real durable engine and record every transition.</summary>
[Collection(RunnerCollection.Name)]
public sealed class JobLifecycleTests(RunnerFixture runner)
{
    private readonly HttpClient _alice = runner.Client("alice-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Create_ReturnsAcceptedAtOnce_WithLocationAndManagementUrls()
    {
        using var response = await _alice.PostAsJsonAsync("/api/jobs", new
        {
            type = "demo.steps",
            input = new { steps = 2 },
            correlationId = "corr-1",
            entity = new { type = "release", id = "42" },
        });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var id = (string)body["id"]!;
        Assert.Equal("pending", (string?)body["status"]);
        Assert.Equal("corr-1", (string?)body["correlationId"]);
        Assert.Equal("42", (string?)body["entity"]!["id"]);
        Assert.EndsWith($"/api/jobs/{id}/status", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.EndsWith($"/api/jobs/{id}/instance", (string?)body["statusQueryGetUri"], StringComparison.Ordinal);
        Assert.EndsWith("/raiseEvent/{eventName}", (string?)body["sendEventPostUri"], StringComparison.Ordinal);
        Assert.EndsWith("/terminate?reason={text}", (string?)body["terminatePostUri"], StringComparison.Ordinal);
        Assert.EndsWith($"/api/jobs/{id}/instance", (string?)body["purgeHistoryDeleteUri"], StringComparison.Ordinal);
        Assert.Null(body["nativeManagementUrls"]);
        await RunnerFixture.WaitForEndAsync(_alice, id);
    }

    [Fact]
    public async Task Job_Completes_WithResult_AndEveryTimestamp()
    {
        var created = await RunnerFixture.CreateJobAsync(_alice, new { type = "demo.steps", input = new { steps = 3 } });
        var id = (string)created["id"]!;

        var status = await RunnerFixture.WaitForEndAsync(_alice, id);
        Assert.Equal("completed", (string?)status["status"]);

        var job = JsonNode.Parse(await _alice.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal(100, (int)job["progress"]!);
        Assert.Equal(3, (int)job["result"]!["stepsCompleted"]!);
        Assert.Equal(3, (int)job["totalAttempts"]!);
        Assert.NotNull(job["startedAt"]);
        Assert.NotNull(job["completedAt"]);
        Assert.True(DateTimeOffset.Parse((string)job["completedAt"]!, System.Globalization.CultureInfo.InvariantCulture)
            >= DateTimeOffset.Parse((string)job["startedAt"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.EndsWith("Z", (string?)job["createdAt"], StringComparison.Ordinal);

        var result = JsonNode.Parse(await _alice.GetStringAsync($"/api/jobs/{id}/result"))!;
        Assert.Equal("completed", (string?)result["status"]);
        Assert.Equal(3, (int)result["result"]!["stepsCompleted"]!);
    }

    [Fact]
    public async Task FailingStep_EndsFailed_WithMessageTypeStackTraceAndStep_AndTheOrchestrationFails()
    {
        var created = await RunnerFixture.CreateJobAsync(_alice, new { type = "demo.steps", input = new { steps = 3, failAtStep = 2 } });
        var id = (string)created["id"]!;

        var status = await RunnerFixture.WaitForEndAsync(_alice, id);
        Assert.Equal("failed", (string?)status["status"]);

        var job = JsonNode.Parse(await _alice.GetStringAsync($"/api/jobs/{id}"))!;
        var error = job["error"]!;
        Assert.Equal("Step 2 failed because failAtStep is 2.", (string?)error["message"]);
        Assert.Equal("System.InvalidOperationException", (string?)error["type"]);
        Assert.Contains("DemoStepsHandler", (string?)error["stackTrace"], StringComparison.Ordinal);
        Assert.Equal("step-2", (string?)error["step"]);
        // Step 1 once, step 2 three times (its retry policy), step 3 never.
        Assert.Equal(4, (int)job["totalAttempts"]!);

        // The record is written failed just before the orchestration itself ends; poll the durable status.
        var durable = await RunnerFixture.WaitForRuntimeStatusAsync(_alice, (string)created["statusQueryGetUri"]!, "Failed");
        Assert.Equal("Failed", (string?)durable["runtimeStatus"]);
        Assert.Contains("failAtStep is 2", (string?)durable["output"], StringComparison.Ordinal);

        using var failAs500 = await _alice.GetAsync((string)created["statusQueryGetUri"]! + "?returnInternalServerErrorOnFailure=true");
        Assert.Equal(HttpStatusCode.InternalServerError, failAs500.StatusCode);
    }

    [Fact]
    public async Task FlakyStep_IsRetried_AndTheJobCompletes()
    {
        var created = await RunnerFixture.CreateJobAsync(_alice, new { type = "demo.steps", input = new { steps = 2, flaky = true } });
        var id = (string)created["id"]!;

        var status = await RunnerFixture.WaitForEndAsync(_alice, id);
        Assert.Equal("completed", (string?)status["status"]);
        var job = JsonNode.Parse(await _alice.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal(4, (int)job["totalAttempts"]!);
        Assert.Equal(2, (int)job["attempt"]!);
        var logs = await _alice.GetStringAsync($"/api/jobs/{id}/logs");
        Assert.Contains("Step step-1 failed (attempt 1)", logs, StringComparison.Ordinal);
        Assert.Contains("Step step-1 started (attempt 2)", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Progress_IsVisibleWhileAStepIsStillRunning()
    {
        var created = await RunnerFixture.CreateJobAsync(_alice, new { type = "demo.steps", input = new { steps = 2, delayMs = 4000 } });
        var id = (string)created["id"]!;

        // Step 1 of 2 owns 0–50%; a value strictly inside it can only come from a report made mid-step.
        var midStep = await RunnerFixture.PollStatusAsync(_alice, id,
            s => (string?)s["step"] == "step-1" && (int)s["progress"]! is > 0 and < 50);
        Assert.Equal("running", (string?)midStep["status"]);
        Assert.StartsWith("Step 1 of 2:", (string?)midStep["message"], StringComparison.Ordinal);
        Assert.Equal(0, (int)midStep["stepIndex"]!);
        Assert.Equal(2, (int)midStep["stepCount"]!);

        var seen = new List<int>();
        var end = await RunnerFixture.PollStatusAsync(_alice, id, s =>
        {
            seen.Add((int)s["progress"]!);
            return (string?)s["status"] == "completed";
        });
        Assert.Equal(100, (int)end["progress"]!);
        Assert.Equal(seen.Order(), seen);
    }

    [Fact]
    public async Task Logs_ComeBackInOrder_AndTheCursorTailsThem()
    {
        var created = await RunnerFixture.CreateJobAsync(_alice, new { type = "demo.steps", input = new { steps = 3 } });
        var id = (string)created["id"]!;
        await RunnerFixture.WaitForEndAsync(_alice, id);

        var all = JsonNode.Parse(await _alice.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray();
        Assert.True(all.Count >= 10, all.ToJsonString());
        var cursors = all.Select(l => (string)l!["cursor"]!).ToList();
        Assert.Equal(cursors.Order(StringComparer.Ordinal), cursors);
        Assert.Contains("step-1 started", (string?)all[0]!["message"], StringComparison.Ordinal);
        Assert.StartsWith("Job completed", (string?)all[^1]!["message"], StringComparison.Ordinal);

        var tailed = new List<string>();
        string? after = null;
        for (var page = 0; page < 50; page++)
        {
            var url = $"/api/jobs/{id}/logs?limit=2" + (after is null ? "" : $"&after={after}");
            var body = JsonNode.Parse(await _alice.GetStringAsync(url))!;
            tailed.AddRange(body["lines"]!.AsArray().Select(l => (string)l!["cursor"]!));
            after = (string?)body["next"];
            if (!(bool)body["hasMore"]!)
            {
                break;
            }
        }
        Assert.Equal(cursors, tailed);

        // Tailing past the end returns nothing and keeps the cursor where it was.
        var end = JsonNode.Parse(await _alice.GetStringAsync($"/api/jobs/{id}/logs?after={after}"))!;
        Assert.Empty(end["lines"]!.AsArray());
        Assert.Equal(after, (string?)end["next"]);
    }

    [Fact]
    public async Task TerminalTransition_PutsOneCloudEventOnJobEvents()
    {
        var created = await RunnerFixture.CreateJobAsync(_alice, new { type = "demo.steps", input = new { steps = 1 }, correlationId = "evt" });
        var id = (string)created["id"]!;
        await RunnerFixture.WaitForEndAsync(_alice, id);

        var events = runner.Storage.EventsQueue;
        JsonNode? found = null;
        for (var attempt = 0; attempt < 50 && found is null; attempt++)
        {
            foreach (var message in (await events.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(1))).Value)
            {
                var body = JsonNode.Parse(message.Body.ToString())!;
                if ((string?)body["subject"] == id)
                {
                    found = body;
                    await events.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
            }
        }
        Assert.NotNull(found);
        // The same CloudEvents 1.0 structured document a webhook receives.
        Assert.Equal("1.0", (string?)found["specversion"]);
        Assert.Equal("jobs.job.completed", (string?)found["type"]);
        Assert.StartsWith(id + "-", (string?)found["id"], StringComparison.Ordinal);
        Assert.EndsWith("/api/jobs", (string?)found["source"], StringComparison.Ordinal);
        Assert.NotNull((string?)found["time"]);
        var data = found["data"]!;
        Assert.Equal("completed", (string?)data["status"]);
        Assert.Equal("evt", (string?)data["correlationId"]);
        Assert.Equal("demo.steps", (string?)data["type"]);
        Assert.StartsWith("alice-", (string?)data["owner"], StringComparison.Ordinal);
        Assert.EndsWith($"/api/jobs/{id}/result", (string?)data["links"]!["result"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResultOverTheInlineCap_IsKeptAsTheResultArtifact_AndTheJobCompletes()
    {
        // Over JobResultLimit (30,000 characters) a result no longer fails its job after all its work (issue 31, item 3):
        // it goes to Blob storage as result.json, and the job's result links it.
        var created = await RunnerFixture.CreateJobAsync(_alice, new { type = "demo.steps", input = new { steps = 1, resultPadding = 40_000 } });
        var id = (string)created["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(_alice, id);
        Assert.Equal("completed", (string?)end["status"]);
        var job = JsonNode.Parse(await _alice.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal("result.json", (string?)job["metadata"]!["resultArtifact"]);
        Assert.Equal("result.json", (string?)job["result"]!["artifact"]!["name"]);
        var stored = JsonNode.Parse(await _alice.GetStringAsync($"/api/jobs/{id}/artifacts/result.json"))!;
        Assert.True(stored.ToJsonString().Length > 40_000);

        var fits = await RunnerFixture.CreateJobAsync(_alice, new { type = "demo.steps", input = new { steps = 1, resultPadding = 20_000 } });
        var ok = await RunnerFixture.WaitForEndAsync(_alice, (string)fits["id"]!);
        Assert.Equal("completed", (string?)ok["status"]);
        var inline = JsonNode.Parse(await _alice.GetStringAsync($"/api/jobs/{(string)fits["id"]!}"))!;
        Assert.Null(inline["result"]!["artifact"]);
    }

    [Fact]
    public async Task UnknownJob_Is404ProblemJson_AndANonId_Is400()
    {
        using var missing = await _alice.GetAsync($"/api/jobs/{Guid.NewGuid():N}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
        Assert.Equal(404, (int)JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["status"]!);

        using var notAnId = await _alice.GetAsync("/api/jobs/not-an-id/status");
        Assert.Equal(HttpStatusCode.BadRequest, notAnId.StatusCode);
        Assert.Contains("\"field\":\"id\"", await notAnId.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Result_OfAJobStillRunning_Is409()
    {
        var created = await RunnerFixture.CreateJobAsync(_alice, new { type = "demo.steps", input = new { steps = 1, delayMs = 3000 } });
        var id = (string)created["id"]!;
        using var response = await _alice.GetAsync($"/api/jobs/{id}/result");
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        await RunnerFixture.WaitForEndAsync(_alice, id);
    }

    [Fact]
    public async Task JobTypes_ListEveryHandler_WithStepsAndInputSchema()
    {
        var body = JsonNode.Parse(await _alice.GetStringAsync("/api/job-types"))!;
        var types = body["jobTypes"]!.AsArray();
        Assert.Equal(["demo.approval", "demo.fanout", "demo.limited", "demo.steps", "jobs.bulk", "jobs.export-csv"], types.Select(t => (string)t!["type"]!));
        var demo = types.Single(t => (string)t!["type"]! == "demo.steps")!;
        Assert.Equal(5, demo["steps"]!.AsArray().Count);
        Assert.NotNull(demo["inputSchema"]!["properties"]!["steps"]);
        Assert.Equal(["process", "gather"], types.Single(t => (string)t!["type"]! == "demo.fanout")!["steps"]!.AsArray().Select(s => (string)s!));
    }
}
