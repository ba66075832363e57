using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary><c>POST /api/jobs/{id}/rerun</c>: a rerun from the start, a resume at the failed step, and every refusal.</summary>
[Collection(TestHandlersRunnerCollection.Name)]
public sealed class RerunTests(TestHandlersRunnerFixture runner)
{
    [Fact]
    public async Task Rerun_OfAFailedJob_IsANewJobLinkedBothWays_ThatRunsEveryStepAgain()
    {
        using var client = runner.Client("rerun-" + Guid.NewGuid().ToString("N")[..8]);
        var original = await FailedJobAsync(client, steps: 3, failAt: 2);

        using var response = await client.PostAsync($"/api/jobs/{original}/rerun", null);
        var rerun = await AcceptedAsync(response);
        var id = (string)rerun["id"]!;
        Assert.NotEqual(original, id);
        Assert.Equal(original, (string?)rerun["rerunOf"]);
        Assert.Null(rerun["resumedAt"]);
        Assert.EndsWith($"/api/jobs/{id}/status", response.Headers.Location!.ToString(), StringComparison.Ordinal);

        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(client, id))["status"]);
        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(client, id);
        Assert.Contains($"Rerun of job {original}.", lines);
        Assert.Equal(["step-1", "step-2", "step-3"], StartedSteps(lines));
        var job = await GetAsync(client, id);
        Assert.Equal(3, (int)job["result"]!["stepsCompleted"]!);
        Assert.Equal(id, (string?)(await GetAsync(client, original))["rerunBy"]);
    }

    [Fact]
    public async Task Resume_RunsOnlyTheFailedStepAndTheOnesAfter_HandedTheOriginalsOutputs()
    {
        using var client = runner.Client("resume-" + Guid.NewGuid().ToString("N")[..8]);
        var original = await FailedJobAsync(client, steps: 4, failAt: 3);

        using var response = await client.PostAsJsonAsync($"/api/jobs/{original}/rerun", new { from = "failed-step" });
        var resumed = await AcceptedAsync(response);
        var id = (string)resumed["id"]!;
        Assert.Equal("step-3", (string?)resumed["resumedAt"]!["step"]);
        Assert.Equal(2, (int)resumed["resumedAt"]!["stepIndex"]!);

        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(client, id))["status"]);
        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(client, id);
        // Steps 1 and 2 ran in the original only; 3 and 4 run here.
        Assert.Equal(["step-3", "step-4"], StartedSteps(lines));
        Assert.DoesNotContain(lines, l => l.StartsWith("Step 1 of 4", StringComparison.Ordinal) || l.StartsWith("Step 2 of 4", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"Resumed from job {original} at step step-3 (3 of 4)", StringComparison.Ordinal));
        // Each step counts one more than the output it was handed: 4 means step 3 got step 2's output from the original.
        var job = await GetAsync(client, id);
        Assert.Equal(4, (int)job["result"]!["stepsCompleted"]!);
        Assert.Equal(100, (int)job["progress"]!);
    }

    [Fact]
    public async Task Rerun_WithAnIdempotencyKey_RepeatedIsTheSameJob()
    {
        using var client = runner.Client("rerun-key-" + Guid.NewGuid().ToString("N")[..8]);
        var original = await FailedJobAsync(client, steps: 2, failAt: 1);
        var key = Guid.NewGuid().ToString("N");
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{original}/rerun");
            request.Headers.Add("Idempotency-Key", key);
            using var response = await client.SendAsync(request);
            ids.Add((string)(await AcceptedAsync(response))["id"]!);
            Assert.Equal(i == 1, response.Headers.Contains("Idempotent-Replayed"));
        }
        Assert.Equal(ids[0], ids[1]);
        // The same key for a resume of that job is another request.
        using var resume = new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{original}/rerun") { Content = JsonContent.Create(new { from = "failed-step" }) };
        resume.Headers.Add("Idempotency-Key", key);
        using var reused = await client.SendAsync(resume);
        await AssertProblemAsync(reused, HttpStatusCode.UnprocessableEntity, "Idempotency-Key");
        var page = JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!;
        Assert.Equal(2, page["jobs"]!.AsArray().Count);
    }

    [Fact]
    public async Task Rerun_WithEditedInput_RunsTheNewInput_AndValidatesItAsACreateDoes()
    {
        using var client = runner.Client("rerun-edit-" + Guid.NewGuid().ToString("N")[..8]);
        var original = await FailedJobAsync(client, steps: 2, failAt: 2);

        using var invalid = await client.PostAsJsonAsync($"/api/jobs/{original}/rerun", new { input = new { steps = 0 } });
        await AssertProblemAsync(invalid, HttpStatusCode.BadRequest, "input.steps");

        using var response = await client.PostAsJsonAsync($"/api/jobs/{original}/rerun", new { input = new { steps = 1 } });
        var id = (string)(await AcceptedAsync(response))["id"]!;
        var ended = await RunnerFixture.WaitForEndAsync(client, id);
        Assert.Equal(("completed", 1), ((string?)ended["status"], (int)ended["stepCount"]!));
    }

    public static TheoryData<string, object?, HttpStatusCode, string> Refusals => new()
    {
        { "pending", null, HttpStatusCode.Conflict, "id" },
        { "completed", new { from = "failed-step" }, HttpStatusCode.Conflict, "from" },
        { "failed", new { from = "the-middle" }, HttpStatusCode.BadRequest, "from" },
        { "failed", new { from = "failed-step", input = new { steps = 2 } }, HttpStatusCode.BadRequest, "input" },
        { "lease", new { from = "failed-step" }, HttpStatusCode.Conflict, "from" },
        // A bulk job's input carries the reach its route decided: rerun with a forged one, or as it was, it is refused.
        { "bulk", new { input = new { action = "delete", filter = new { status = new[] { "completed" } }, allOwners = true } }, HttpStatusCode.Conflict, "id" },
        { "bulk", null, HttpStatusCode.Conflict, "id" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Rerun_Refused_IsAProblemNamingTheField_AndChangesNothing(string state, object? body, HttpStatusCode status, string field)
    {
        using var client = runner.Client("rerun-bad-" + Guid.NewGuid().ToString("N")[..8]);
        var id = state switch
        {
            // Not ended, and not changing meanwhile (a running job's record moves with its progress).
            "pending" => (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 }, notBefore = DateTimeOffset.UtcNow.AddHours(1) }))["id"]!,
            "completed" => await EndedJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }, "completed"),
            "lease" => await EndedJobAsync(client, new { type = LeaseHandler.TypeName }, "failed"),
            "bulk" => await EndedBulkAsync(client),
            _ => await FailedJobAsync(client, steps: 2, failAt: 2),
        };
        var before = await GetAsync(client, id);

        using var response = body is null ? await client.PostAsync($"/api/jobs/{id}/rerun", null) : await client.PostAsJsonAsync($"/api/jobs/{id}/rerun", body);
        await AssertProblemAsync(response, status, field);

        var after = await GetAsync(client, id);
        Assert.Null(after["rerunBy"]);
        Assert.Equal((string?)before["updatedAt"], (string?)after["updatedAt"]);
        var page = JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!;
        Assert.Equal([id], page["jobs"]!.AsArray().Select(j => (string)j!["id"]!));
        if (state == "pending")
        {
            using var _ = await client.PostAsync($"/api/jobs/{id}/cancel", null);
        }
    }

    [Fact]
    public async Task Rerun_OfSomeoneElsesJob_Is404_AndAnAdminsRerunBelongsToTheOwner()
    {
        var owner = "rerun-owner-" + Guid.NewGuid().ToString("N")[..8];
        using var client = runner.Client(owner);
        var original = await FailedJobAsync(client, steps: 1, failAt: 1);

        using var stranger = runner.Client("rerun-stranger-" + Guid.NewGuid().ToString("N")[..8]);
        using var refused = await stranger.PostAsync($"/api/jobs/{original}/rerun", null);
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Null((await GetAsync(client, original))["rerunBy"]);

        using var admin = runner.Client("rerun-admin", "admin");
        using var response = await admin.PostAsync($"/api/jobs/{original}/rerun", null);
        var rerun = await AcceptedAsync(response);
        Assert.Equal(owner, (string?)rerun["owner"]);
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(client, (string)rerun["id"]!))["status"]);
    }

    private static async Task<string> FailedJobAsync(HttpClient client, int steps, int failAt) =>
        await EndedJobAsync(client, new { type = "demo.steps", input = new { steps, failAtStep = failAt, recoverOnRerun = true } }, "failed");

    private static async Task<string> EndedJobAsync(HttpClient client, object body, string expected)
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(client, body))["id"]!;
        Assert.Equal(expected, (string?)(await RunnerFixture.WaitForEndAsync(client, id))["status"]);
        return id;
    }

    private static async Task<string> EndedBulkAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/api/jobs/bulk", new { action = "cancel", ids = new[] { Guid.NewGuid().ToString("N") } });
        var id = (string)(await AcceptedAsync(response))["id"]!;
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(client, id))["status"]);
        return id;
    }

    private static async Task<JsonObject> AcceptedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task<JsonObject> GetAsync(HttpClient client, string id) =>
        JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!.AsObject();

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(JsonNode.Parse(text)!["errors"]!.AsArray(), e => (string?)e!["field"] == field);
    }

    /// <summary>The steps whose first attempt started, in order, from the job's log.</summary>
    private static List<string> StartedSteps(IEnumerable<string> lines) =>
        [.. lines.Where(l => l.StartsWith("Step step-", StringComparison.Ordinal) && l.Contains(" started (attempt 1)", StringComparison.Ordinal))
            .Select(l => l["Step ".Length..l.IndexOf(' ', "Step ".Length)])];
}
