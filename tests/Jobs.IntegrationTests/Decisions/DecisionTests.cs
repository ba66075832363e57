using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Handlers;
using Jobs.Testing;
using Xunit.Abstractions;

namespace Jobs.IntegrationTests.Decisions;

/// <summary>
/// A step that waits for a person (issue 31) on Azurite with the real durable engine, through <c>demo.approval</c>: the
/// job waits <c>waiting</c> — listed, counted, with its question — until <c>POST /api/jobs/{id}/decisions/deploy</c>
/// answers it, then runs on; a rejection ends as the handler says; the timeout applies what the handler chose.
/// </summary>
[Collection(SecondRunnerCollection.Name)]
public sealed class DecisionTests(RunnerFixture runner, ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);
    private readonly string _owner = "dec-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<string> WaitingJobAsync(HttpClient client, object? input = null)
    {
        var created = await RunnerFixture.CreateJobAsync(client, new { type = DemoApprovalHandler.TypeName, input = input ?? new { } });
        var id = (string)created["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "waiting", Long);
        return id;
    }

    private static async Task<JsonObject> JobAsync(HttpClient client, string id) =>
        JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!.AsObject();

    private static Task<HttpResponseMessage> DecideAsync(HttpClient client, string id, object body, string name = DemoApprovalHandler.DecisionName) =>
        client.PostAsJsonAsync($"/api/jobs/{id}/decisions/{name}", body);

    private static async Task<JsonArray> AuditAsync(HttpClient client, string id) =>
        JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/audit?limit=1000"))!["entries"]!.AsArray();

    [Fact]
    public async Task AnApprovalJob_WaitsListedAndCountedAsWaiting_WithItsQuestion_ThenRunsOnOnApprove_RecordingWhoDecided()
    {
        using var client = runner.Client(_owner);
        var id = await WaitingJobAsync(client);

        var waiting = await JobAsync(client, id);
        var decision = waiting["decision"]!;
        Assert.Equal(("deploy", "Deploy?", "deploy", "approver"), ((string?)decision["name"], (string?)decision["question"], (string?)decision["step"], (string?)decision["role"]));
        Assert.Null(decision["answer"]);
        Assert.Equal(("deploy", 1), ((string?)waiting["step"], (int)waiting["stepIndex"]!));
        // The list rows (and the count deltas in their transaction) follow the record's change: wait for them.
        JsonNode listed = null!;
        await Conditions.WaitUntilAsync(async () =>
        {
            listed = JsonNode.Parse(await client.GetStringAsync("/api/jobs?status=waiting"))!;
            return listed["jobs"]!.AsArray().Count > 0;
        }, "the waiting job is listed as waiting");
        Assert.Equal([id], listed["jobs"]!.AsArray().Select(j => (string)j!["id"]!));
        Assert.Equal(1, (long)listed["pagination"]!["total"]!);
        var stats = JsonNode.Parse(await client.GetStringAsync("/api/jobs/stats"))!;
        Assert.Equal(1, (long)stats["byStatus"]!["waiting"]!);

        using var answer = await DecideAsync(client, id, new { decision = "approve", comment = "ship it", payload = new { version = "1.2.3" } });
        var answered = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        Assert.True(answer.StatusCode == HttpStatusCode.OK, answered.ToJsonString());
        Assert.Equal("running", (string?)answered["status"]);
        Assert.Equal(("approve", _owner), ((string?)answered["decision"]!["answer"], (string?)answered["decision"]!["decidedBy"]));

        var end = await RunnerFixture.WaitForEndAsync(client, id, Long);
        Assert.Equal("completed", (string?)end["status"]);
        var result = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/result"))!["result"]!;
        Assert.Equal((true, _owner, "ship it", "1.2.3"),
            ((bool)result["deployed"]!, (string?)result["approvedBy"], (string?)result["comment"], (string?)result["payload"]!["version"]));

        // From the answer to the decided step's start, as the server stamped them (reported, not asserted: no timed assertion).
        var lines = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray();
        var started = lines.First(l => ((string)l!["message"]!).StartsWith("Step deploy started", StringComparison.Ordinal))!;
        var decidedAt = (DateTimeOffset)(await JobAsync(client, id))["decision"]!["decidedAt"]!;
        output.WriteLine($"decision → step deploy started: {((DateTimeOffset)started["timestamp"]! - decidedAt).TotalMilliseconds:F0} ms");
        Assert.Contains(lines, l => ((string)l!["message"]!).StartsWith("Waiting for a decision (deploy) before step deploy: Deploy?", StringComparison.Ordinal));
        Assert.Contains(lines, l => (string)l!["message"]! == $"Decision (deploy): approved by {_owner}: ship it.");

        var entry = Assert.Single(await AuditAsync(client, id), e => (string?)e!["action"] == "decided")!;
        Assert.Equal((_owner, "deploy", "approve", "ship it"),
            ((string?)entry["actor"]!["id"], (string?)entry["details"]!["name"], (string?)entry["details"]!["decision"], (string?)entry["details"]!["comment"]));

        // Answered once: a second answer is refused, naming the decision.
        using var again = await DecideAsync(client, id, new { decision = "reject" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("name", (string?)JsonNode.Parse(await again.Content.ReadAsStringAsync())!["errors"]![0]!["field"]);
    }

    [Fact]
    public async Task ARejectedApproval_EndsAsItsHandlerSays_FailedWithWhoRejectedAndWhy()
    {
        using var client = runner.Client(_owner);
        var id = await WaitingJobAsync(client);

        using var answer = await DecideAsync(client, id, new { decision = "reject", comment = "not on a Friday" });
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        var end = await RunnerFixture.WaitForEndAsync(client, id, Long);
        Assert.Equal("failed", (string?)end["status"]);
        var job = await JobAsync(client, id);
        var message = (string)job["error"]!["message"]!;
        Assert.StartsWith($"Deployment rejected by {_owner}", message, StringComparison.Ordinal); // the principal's display name
        Assert.EndsWith(": not on a Friday.", message, StringComparison.Ordinal);
        Assert.Equal("deploy", (string?)job["error"]!["step"]);
        Assert.Equal("reject", (string?)job["decision"]!["answer"]);
    }

    [Fact]
    public async Task NoAnswerByTheTimeout_FailsTheJobWithoutRunningTheStep_AndALateAnswerIsRefused()
    {
        using var client = runner.Client(_owner);
        var created = await RunnerFixture.CreateJobAsync(client, new { type = DemoApprovalHandler.TypeName, input = new { decisionTimeoutSeconds = 2 } });
        var id = (string)created["id"]!;

        var end = await RunnerFixture.WaitForEndAsync(client, id, Long);

        Assert.Equal("failed", (string?)end["status"]);
        var job = await JobAsync(client, id);
        Assert.Equal(("DecisionTimedOut", "deploy"), ((string?)job["error"]!["type"], (string?)job["error"]!["step"]));
        Assert.Equal(("expired", true, "timeout"), ((string?)job["decision"]!["answer"], (bool)job["decision"]!["timedOut"]!, (string?)job["decision"]!["decidedBy"]));
        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(client, id);
        Assert.DoesNotContain(lines, l => l.StartsWith("Step deploy started", StringComparison.Ordinal));
        Assert.Single(await AuditAsync(client, id), e => (string?)e!["action"] == "decision_timed_out");
        using var late = await DecideAsync(client, id, new { decision = "approve" });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task ATimeoutThatRejects_RunsTheStepWithTheTimeoutsRejection()
    {
        using var client = runner.Client(_owner);
        var created = await RunnerFixture.CreateJobAsync(client, new { type = DemoApprovalHandler.TypeName, input = new { decisionTimeoutSeconds = 2, onTimeout = "reject" } });
        var id = (string)created["id"]!;

        var end = await RunnerFixture.WaitForEndAsync(client, id, Long);

        Assert.Equal("failed", (string?)end["status"]);
        var job = await JobAsync(client, id);
        Assert.Equal("Deployment rejected by its timeout.", (string?)job["error"]!["message"]);
        Assert.Equal(("reject", true), ((string?)job["decision"]!["answer"], (bool)job["decision"]!["timedOut"]!));
    }

    [Fact]
    public async Task ACallerWithTheRoleTheHandlerNames_MayDecide_OthersGetTheUnknownJobsAnswer()
    {
        using var owner = runner.Client(_owner);
        var id = await WaitingJobAsync(owner);
        using var stranger = runner.Client(_owner + "-x");
        using var approver = runner.Client(_owner + "-a", DemoApprovalHandler.DefaultRole);

        using (var refused = await DecideAsync(stranger, id, new { decision = "approve" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }
        Assert.Equal("waiting", (string?)(await JobAsync(owner, id))["status"]);

        using var allowed = await DecideAsync(approver, id, new { decision = "approve" });
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(owner, id, Long))["status"]);
        var entry = Assert.Single(await AuditAsync(owner, id), e => (string?)e!["action"] == "decided")!;
        Assert.Equal(_owner + "-a", (string?)entry["actor"]!["id"]);
    }

    [Fact]
    public async Task ARoleHolderWhoIsNotTheOwner_GetsTheUnknownJobsAnswer_OnceTheJobNoLongerWaits_NotItsStateOrWhoDecided()
    {
        using var owner = runner.Client(_owner);
        var id = await WaitingJobAsync(owner);
        using var approver = runner.Client(_owner + "-a", DemoApprovalHandler.DefaultRole);
        using (var answered = await DecideAsync(owner, id, new { decision = "approve" }))
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(owner, id, Long))["status"]);

        // The role lets its holder answer a waiting job, not read one: the job's 404 (and its representation) stay theirs.
        Assert.Equal(HttpStatusCode.NotFound, (await approver.GetAsync($"/api/jobs/{id}")).StatusCode);
        using var late = await DecideAsync(approver, id, new { decision = "reject" });
        var body = await late.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.NotFound, late.StatusCode);
        Assert.DoesNotContain(_owner + "\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("completed", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadInput_IsAProblemNamingTheField_AndChangesNothing()
    {
        using var client = runner.Client(_owner);
        var id = await WaitingJobAsync(client);
        var before = await JobAsync(client, id);

        (object Body, string Name, HttpStatusCode Status, string Field)[] cases =
        [
            (new { }, "deploy", HttpStatusCode.BadRequest, "decision"),
            (new { decision = "maybe" }, "deploy", HttpStatusCode.BadRequest, "decision"),
            (new { decision = "approve", comment = new string('c', 1_001) }, "deploy", HttpStatusCode.BadRequest, "comment"),
            (new { decision = "approve", payload = new[] { 1, 2 } }, "deploy", HttpStatusCode.BadRequest, "payload"),
            (new { decision = "approve", payload = new { blob = new string('p', 9_000) } }, "deploy", HttpStatusCode.BadRequest, "payload"),
            (new { decision = "approve", extra = 1 }, "deploy", HttpStatusCode.BadRequest, "extra"),
            (new { decision = "approve" }, "Not%20A%20Name", HttpStatusCode.BadRequest, "name"),
            (new { decision = "approve" }, "release", HttpStatusCode.Conflict, "name"),
        ];
        foreach (var (body, name, status, field) in cases)
        {
            using var response = await DecideAsync(client, id, body, name);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{name} {System.Text.Json.JsonSerializer.Serialize(body)[..Math.Min(80, System.Text.Json.JsonSerializer.Serialize(body).Length)]}: {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(JsonNode.Parse(text)!["errors"]!.AsArray(), e => (string?)e!["field"] == field);
        }
        using (var unknown = await DecideAsync(client, new string('0', 32), new { decision = "approve" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        var after = await JobAsync(client, id);
        Assert.Equal(before.ToJsonString(), after.ToJsonString());
        Assert.DoesNotContain(await AuditAsync(client, id), e => (string?)e!["action"] == "decided");
    }

    [Fact]
    public async Task TwoAnswersAtOnce_ExactlyOneIsTaken_TheOtherIs409_AndTheJobEndsAsTheTakenOneSays()
    {
        using var client = runner.Client(_owner);
        using var admin = runner.Client("dec-admin-" + Guid.NewGuid().ToString("N")[..8], "admin");
        var id = await WaitingJobAsync(client);

        var answers = await Task.WhenAll(DecideAsync(client, id, new { decision = "approve" }), DecideAsync(admin, id, new { decision = "reject" }));
        try
        {
            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
            var taken = answers.Single(a => a.StatusCode == HttpStatusCode.OK);
            var answer = (string?)JsonNode.Parse(await taken.Content.ReadAsStringAsync())!["decision"]!["answer"];

            var end = await RunnerFixture.WaitForEndAsync(client, id, Long);
            Assert.Equal((answer, answer == "approve" ? "completed" : "failed"),
                ((string?)(await JobAsync(client, id))["decision"]!["answer"], (string?)end["status"]));
            Assert.Single(await AuditAsync(client, id), e => (string?)e!["action"] == "decided");
        }
        finally
        {
            foreach (var response in answers)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task CancellingAWaitingJob_EndsItAtOnce_AndItsDecisionIsNoLongerTaken()
    {
        using var client = runner.Client(_owner);
        var id = await WaitingJobAsync(client);

        using var cancel = await client.PostAsync($"/api/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", (string?)JsonNode.Parse(await cancel.Content.ReadAsStringAsync())!["status"]);

        using var late = await DecideAsync(client, id, new { decision = "approve" });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        var instance = await RunnerFixture.WaitForRuntimeStatusAsync(client, $"/api/jobs/{id}/instance", "Terminated");
        Assert.Equal("Terminated", (string?)instance["runtimeStatus"]);
        Assert.Equal("cancelled", (string?)(await JobAsync(client, id))["status"]);
    }
}
