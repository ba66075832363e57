using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// The runner's native Durable HTTP API against what the extension's HttpApiHandler does (Microsoft.Azure.WebJobs.
/// Extensions.DurableTask 3.18.0, the version the app's worker extension loads; read from the package): the start
/// route, list defaults, history shaping (DurableClient.GetDurableOrchestrationStatusAsync), suspend/resume answers,
/// bare statuses with empty bodies and <c>{"Message": …}</c> error bodies.
/// </summary>
[Collection(SecondRunnerCollection.Name)]
public sealed class NativeDurableApiTests(RunnerFixture runner)
{
    private readonly HttpClient _owner = runner.Client("native-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly HttpClient _admin = new() { BaseAddress = runner.BaseAddress };

    private string Instance(string id, string rest = "", string query = "") =>
        $"/runtime/webhooks/durabletask/instances/{id}{rest}?code={runner.SystemKey}{query}";

    [Fact]
    public async Task ListInstances_ShowsInputsUnlessAskedNotTo()
    {
        var id = await CompletedJobAsync();
        var list = $"/runtime/webhooks/durabletask/instances?code={runner.SystemKey}&instanceIdPrefix={id}";

        var shown = JsonNode.Parse(await _admin.GetStringAsync(list))!.AsArray();
        var hidden = JsonNode.Parse(await _admin.GetStringAsync(list + "&showInput=false"))!.AsArray();

        Assert.Equal(id, (string?)Assert.Single(shown)!["instanceId"]);
        Assert.Equal(id, (string?)Assert.Single(shown)!["input"]!["jobId"]);
        Assert.Null(Assert.Single(hidden)!["input"]);
    }

    [Fact]
    public async Task ShowHistory_IsShapedAsTheExtensionShapesIt()
    {
        var id = await CompletedJobAsync();

        var events = JsonNode.Parse(await _admin.GetStringAsync(Instance(id, query: "&showHistory=true")))!["historyEvents"]!.AsArray()
            .Select(e => e!.AsObject()).ToList();
        var withOutput = JsonNode.Parse(await _admin.GetStringAsync(Instance(id, query: "&showHistory=true&showHistoryOutput=true&showInput=false")))!["historyEvents"]!
            .AsArray().Select(e => e!.AsObject()).ToList();

        var types = events.Select(e => (string?)e["EventType"]).ToList();
        Assert.Equal("ExecutionStarted", types[0]);
        Assert.Equal("ExecutionCompleted", types[^1]);
        Assert.DoesNotContain("OrchestratorStarted", types);
        Assert.DoesNotContain("OrchestratorCompleted", types);
        Assert.DoesNotContain("TaskScheduled", types); // folded into the TaskCompleted that answers it
        Assert.Equal("JobOrchestrator", (string?)events[0]["FunctionName"]);
        Assert.Null(events[0]["Name"]);
        Assert.NotNull(events[0]["Input"]);
        var tasks = events.Where(e => (string?)e["EventType"] == "TaskCompleted").ToList();
        Assert.Equal(["RunJobStep", "FinishJob"], tasks.Select(t => (string?)t["FunctionName"]));
        Assert.All(tasks, t => Assert.NotNull(t["ScheduledTime"]));
        Assert.All(tasks, t => Assert.Null(t["Result"]));
        Assert.Equal("Completed", (string?)events[^1]["OrchestrationStatus"]);
        Assert.Null(events[^1]["Result"]);
        Assert.All(events, e => Assert.Null(e["EventId"]));
        Assert.All(events, e => Assert.Null(e["IsPlayed"]));

        // With outputs: results as JSON values, not strings holding JSON; without inputs: none.
        Assert.Equal("completed", (string?)withOutput[^1]["Result"]!["status"]);
        Assert.Equal("completed", (string?)withOutput.First(e => (string?)e["EventType"] == "TaskCompleted")["Result"]!["kind"]);
        Assert.All(withOutput, e => Assert.Null(e["Input"]));
    }

    [Fact]
    public async Task StartRoute_Starts_Answering202WithTheCheckStatusPayload_RefusesALiveId_AndWaitsWhenAsked()
    {
        var id = await CompletedJobAsync();
        var plan = JsonNode.Parse(await _admin.GetStringAsync(Instance(id)))!["input"]!.ToJsonString();
        var start = $"/runtime/webhooks/durabletask/orchestrators/JobOrchestrator/{id}?code={runner.SystemKey}";

        // An ended id may be started again: the job's orchestration runs once more and finds its job ended.
        using var started = await _admin.PostAsync(start, Json(plan));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var payload = JsonNode.Parse(await started.Content.ReadAsStringAsync())!;
        Assert.Equal(id, (string?)payload["id"]);
        var statusUri = (string)payload["statusQueryGetUri"]!;
        Assert.Equal(statusUri, started.Headers.Location!.ToString());
        Assert.Equal(TimeSpan.FromSeconds(10), started.Headers.RetryAfter!.Delta);
        Assert.StartsWith($"{runner.BaseAddress.ToString().TrimEnd('/')}/runtime/webhooks/durabletask/instances/{id}?taskHub={runner.HubName}&connection=Storage&code=", statusUri, StringComparison.Ordinal);
        foreach (var link in new[] { "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri" })
        {
            Assert.Contains($"/instances/{id}", (string)payload[link]!, StringComparison.Ordinal);
        }
        await RunnerFixture.WaitForRuntimeStatusAsync(_admin, statusUri, "Completed");

        // With timeout and pollingInterval it waits, and answers with the output once the instance completed.
        using var waited = await _admin.PostAsync(start + "&timeout=60&pollingInterval=1", Json(plan));
        Assert.Equal(HttpStatusCode.OK, waited.StatusCode);
        Assert.Equal("completed", (string?)JsonNode.Parse(await waited.Content.ReadAsStringAsync())!["status"]);

        var running = (string)(await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 2, delayMs = 2000 } }))["id"]!;
        using var refused = await _admin.PostAsync($"/runtime/webhooks/durabletask/orchestrators/JobOrchestrator/{running}?code={runner.SystemKey}", Json(plan));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.StartsWith("An Orchestration instance with the status ", (string?)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["Message"], StringComparison.Ordinal);

        using var notJson = await _admin.PostAsync($"/runtime/webhooks/durabletask/orchestrators/JobOrchestrator?code={runner.SystemKey}", Json("{not json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal("Invalid JSON content", (string?)JsonNode.Parse(await notJson.Content.ReadAsStringAsync())!["Message"]);
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(_owner, running))["status"]);
    }

    /// <summary>
    /// The restart route the check-status payload advertises (restartPostUri), as Azure/azure-functions-durable-extension
    /// src/WebJobs.Extensions.DurableTask/HttpApiHandler.cs HandleRestartInstanceRequestAsync over DurableClient.RestartAsync
    /// (src/WebJobs.Extensions.DurableTask/ContextImplementations/DurableClient.cs): the instance's name and input start
    /// again, under a new id unless restartWithNewInstanceId=false, answered as the start route; an unknown id is 400.
    /// </summary>
    [Fact]
    public async Task Restart_StartsTheNameAndInputAgain_UnderANewIdUnlessAskedNot_AndAnUnknownIdIs400()
    {
        var id = await CompletedJobAsync();
        var input = JsonNode.Parse(await _admin.GetStringAsync(Instance(id)))!["input"]!.ToJsonString();

        using var restarted = await _admin.PostAsync(Instance(id, "/restart"), null);
        Assert.Equal(HttpStatusCode.Accepted, restarted.StatusCode);
        var payload = JsonNode.Parse(await restarted.Content.ReadAsStringAsync())!;
        var newId = (string)payload["id"]!;
        Assert.NotEqual(id, newId);
        Assert.Equal((string)payload["statusQueryGetUri"]!, restarted.Headers.Location!.ToString());
        var copy = JsonNode.Parse(await _admin.GetStringAsync(Instance(newId)))!;
        Assert.Equal("JobOrchestrator", (string?)copy["name"]);
        Assert.Equal(input, copy["input"]!.ToJsonString());

        // In place: an ended id starts again, and the job's orchestration finds its job ended.
        using var inPlace = await _admin.PostAsync(Instance(id, "/restart", "&restartWithNewInstanceId=false"), null);
        Assert.Equal(HttpStatusCode.Accepted, inPlace.StatusCode);
        Assert.Equal(id, (string?)JsonNode.Parse(await inPlace.Content.ReadAsStringAsync())!["id"]);
        await RunnerFixture.WaitForRuntimeStatusAsync(_admin, Instance(id), "Completed");

        var unknown = Guid.NewGuid().ToString("N");
        using var missing = await _admin.PostAsync(Instance(unknown, "/restart"), null);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var error = JsonNode.Parse(await missing.Content.ReadAsStringAsync())!;
        Assert.Equal("InstanceId does not match a valid orchestration instance.", (string?)error["Message"]);
        Assert.Equal("System.ArgumentException", (string?)error["ExceptionType"]);
    }

    /// <summary>
    /// The terminate route stores its reason as sent, not as a JSON string: HttpApiHandler hands the query's reason to
    /// DurableClient.TerminateAsync, which passes it to TaskHubClient.TerminateInstanceAsync as the termination's text
    /// (3.18.0, read from the assembly), so <c>reason=42</c> is the output 42 and <c>reason=stop now</c> the text itself.
    /// </summary>
    [Theory]
    [InlineData("42", "42")]
    [InlineData("stop%20now", "\"stop now\"")]
    public async Task Terminate_StoresTheReasonAsSent(string reason, string output)
    {
        var running = (string)(await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 3, delayMs = 2000 } }))["id"]!;
        await RunnerFixture.WaitForRuntimeStatusAsync(_admin, Instance(running), "Running");

        using var terminate = await _admin.PostAsync(Instance(running, "/terminate", "&reason=" + reason), null);
        Assert.Equal(HttpStatusCode.Accepted, terminate.StatusCode);
        await RunnerFixture.WaitForRuntimeStatusAsync(_admin, Instance(running), "Terminated");

        var status = JsonNode.Parse(await _admin.GetStringAsync(Instance(running)))!;
        Assert.Equal(output, status["output"]!.ToJsonString());
    }

    [Fact]
    public async Task SuspendAndResume_Answer404And410AsTerminateDoes_AndResumingARunningInstanceIs500()
    {
        var ended = await CompletedJobAsync();
        var unknown = Guid.NewGuid().ToString("N");
        foreach (var operation in new[] { "suspend", "resume", "terminate" })
        {
            using var gone = await _admin.PostAsync(Instance(ended, "/" + operation), null);
            Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
            Assert.Empty(await gone.Content.ReadAsByteArrayAsync());
            using var missing = await _admin.PostAsync(Instance(unknown, "/" + operation), null);
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Empty(await missing.Content.ReadAsByteArrayAsync());
        }

        var running = (string)(await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 2, delayMs = 1500 } }))["id"]!;
        await RunnerFixture.WaitForRuntimeStatusAsync(_admin, Instance(running), "Running");
        using var resumeRunning = await _admin.PostAsync(Instance(running, "/resume"), null);
        Assert.Equal(HttpStatusCode.InternalServerError, resumeRunning.StatusCode);
        var error = JsonNode.Parse(await resumeRunning.Content.ReadAsStringAsync())!;
        Assert.Equal("Something went wrong while processing your request", (string?)error["Message"]);
        Assert.Equal("System.InvalidOperationException", (string?)error["ExceptionType"]);
        Assert.Equal($"Cannot resume the orchestration instance {running} because instance is in the Running state.", (string?)error["ExceptionMessage"]);
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(_owner, running))["status"]);
    }

    [Fact]
    public async Task BareAnswers_HaveEmptyBodies_AndRaiseEventChecksTheInstanceBeforeTheContentType()
    {
        var unknown = Guid.NewGuid().ToString("N");
        using var anonymous = new HttpClient { BaseAddress = runner.BaseAddress };

        using var noKey = await anonymous.GetAsync($"/runtime/webhooks/durabletask/instances/{unknown}");
        using var wrongHub = await _admin.GetAsync(Instance(unknown, query: "&taskHub=Other"));
        using var missing = await _admin.GetAsync(Instance(unknown));
        using var noRoute = await _admin.GetAsync($"/runtime/webhooks/durabletask/nothing/here?code={runner.SystemKey}");
        using var raiseUnknown = await _admin.PostAsync(Instance(unknown, "/raiseEvent/poke"), new StringContent("hi", Encoding.UTF8, "text/plain"));

        // Keys are off in this fixture, as under Core Tools without --enableAuth: no key needed, so an unknown
        // instance is the bare 404 (the bare 401 with keys on is in FunctionKeyTests).
        Assert.Equal(HttpStatusCode.NotFound, noKey.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, wrongHub.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noRoute.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, raiseUnknown.StatusCode);
        foreach (var response in new[] { noKey, wrongHub, missing, noRoute, raiseUnknown })
        {
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }

        var ended = await CompletedJobAsync();
        using var raiseEnded = await _admin.PostAsync(Instance(ended, "/raiseEvent/poke"), new StringContent("hi", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.Gone, raiseEnded.StatusCode);
        Assert.Empty(await raiseEnded.Content.ReadAsByteArrayAsync());
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<string> CompletedJobAsync()
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(_owner, id);
        await RunnerFixture.WaitForRuntimeStatusAsync(_admin, Instance(id), "Completed");
        return id;
    }
}
