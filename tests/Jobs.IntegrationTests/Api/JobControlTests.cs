using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Jobs.Functions.Lifecycle;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>Cancel in every state, cancel racing completion, drafts, idempotent creation and timeouts.</summary>
[Collection(RunnerCollection.Name)]
public sealed class JobControlTests(RunnerFixture runner)
{
    private readonly HttpClient _user = runner.Client("ctl-" + Guid.NewGuid().ToString("N")[..8]);

    private async Task<List<string>> LogMessagesAsync(string id) =>
        [.. JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray().Select(l => (string)l!["message"]!)];

    [Fact]
    public async Task Cancel_RunningJob_StopsAtTheNextStepBoundary()
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(_user, new { type = "demo.steps", input = new { steps = 3, delayMs = 1200 } }))["id"]!;
        await RunnerFixture.PollStatusAsync(_user, id, s => (string?)s["status"] == "running");

        using var response = await _user.PostAsync($"/api/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True((bool)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["cancelRequested"]!);

        var end = await RunnerFixture.WaitForEndAsync(_user, id);
        Assert.Equal("cancelled", (string?)end["status"]);
        var logs = await LogMessagesAsync(id);
        Assert.DoesNotContain(logs, l => l.StartsWith("Step step-3 started", StringComparison.Ordinal));
        using var again = await _user.PutAsync($"/api/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Cancel_RightAfterCreation_NeverRunsAStepIfItWasStillPending()
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(_user, new { type = "demo.steps", input = new { steps = 2, delayMs = 400 } }))["id"]!;
        using var response = await _user.PostAsync($"/api/jobs/{id}/cancel", null);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        var end = await RunnerFixture.WaitForEndAsync(_user, id);
        Assert.Equal("cancelled", (string?)end["status"]);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            // It was cancelled while pending: it must never start.
            Assert.Equal("cancelled", (string?)body["status"]);
            await Task.Delay(1000);
            Assert.DoesNotContain(await LogMessagesAsync(id), l => l.StartsWith("Step ", StringComparison.Ordinal));
            Assert.Equal("cancelled", (string?)JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}/status"))!["status"]);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
    }

    [Fact]
    public async Task Cancel_CompletedJob_Is409_AndChangesNothing()
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(_user, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(_user, id);
        using var response = await _user.PostAsync($"/api/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("already ended as completed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var job = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal("completed", (string?)job["status"]);
        Assert.False((bool)job["cancelRequested"]!);
    }

    [Fact]
    public async Task Cancel_RacingCompletion_LeavesOneConsistentFinalState()
    {
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add((string)(await RunnerFixture.CreateJobAsync(_user, new { type = "demo.steps", input = new { steps = 1, delayMs = 300 + (i * 60) } }))["id"]!);
        }
        await Task.Delay(400);
        var cancels = await Task.WhenAll(ids.Select(id => _user.PostAsync($"/api/jobs/{id}/cancel", null)));

        for (var i = 0; i < ids.Count; i++)
        {
            var end = await RunnerFixture.WaitForEndAsync(_user, ids[i]);
            var status = (string?)end["status"];
            var job = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{ids[i]}"))!;
            switch (cancels[i].StatusCode)
            {
                case HttpStatusCode.Conflict:
                    Assert.Equal("completed", status);
                    Assert.False((bool)job["cancelRequested"]!);
                    break;
                case HttpStatusCode.OK:
                    Assert.Equal("cancelled", status);
                    break;
                default:
                    // Flagged while running: the last step may still finish first; either way the flag is kept.
                    Assert.Equal(HttpStatusCode.Accepted, cancels[i].StatusCode);
                    Assert.Contains(status, new[] { "completed", "cancelled" });
                    Assert.True((bool)job["cancelRequested"]!);
                    break;
            }
            // The closing log line is appended just after the record changes: give it a moment, then count.
            var completions = 0;
            for (var wait = 0; wait < 40; wait++)
            {
                completions = (await LogMessagesAsync(ids[i])).Count(l => l.StartsWith("Job completed", StringComparison.Ordinal));
                if (completions > 0 || status != "completed")
                {
                    break;
                }
                await Task.Delay(50);
            }
            Assert.Equal(status == "completed" ? 1 : 0, completions);
            cancels[i].Dispose();
        }
    }

    [Fact]
    public async Task Draft_IsStoredNotRun_EditedThenSubmitted()
    {
        using var created = await _user.PostAsync("/api/jobs", Json("""{"type":"demo.steps","draft":true,"input":{"steps":1}}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var draft = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        var id = (string)draft["id"]!;
        Assert.Equal("draft", (string?)draft["status"]);
        Assert.Null(draft["deadline"]);
        using var noInstance = await _user.GetAsync($"/api/jobs/{id}/instance");
        Assert.Equal(HttpStatusCode.NotFound, noInstance.StatusCode);

        using var invalid = await _user.PatchAsync($"/api/jobs/{id}", Json("""{"input":{"steps":0}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("input.steps", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var edited = await _user.PatchAsync($"/api/jobs/{id}", Json("""{"input":{"steps":2},"correlationId":"wizard-7"}"""));
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        Assert.Equal(2, (int)JsonNode.Parse(await edited.Content.ReadAsStringAsync())!["stepCount"]!);
        // The edited correlation id is what the draft is listed (and found) by, before it is submitted.
        var byNewId = JsonNode.Parse(await _user.GetStringAsync("/api/jobs?correlationId=wizard-7"))!["jobs"]!.AsArray();
        Assert.Equal([(id, "wizard-7")], byNewId.Select(j => ((string)j!["id"]!, (string?)j["correlationId"])));

        using var submitted = await _user.PostAsync($"/api/jobs/{id}/submit", null);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var end = await RunnerFixture.WaitForEndAsync(_user, id);
        Assert.Equal("completed", (string?)end["status"]);
        Assert.Equal("wizard-7", (string?)JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}"))!["correlationId"]);

        using var resubmit = await _user.PostAsync($"/api/jobs/{id}/submit", null);
        Assert.Equal(HttpStatusCode.Conflict, resubmit.StatusCode);
        using var late = await _user.PatchAsync($"/api/jobs/{id}", Json("""{"input":{"steps":3}}"""));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task Draft_Cancelled_NeverRuns()
    {
        using var created = await _user.PostAsync("/api/jobs", Json("""{"type":"demo.steps","draft":true}"""));
        var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
        using var cancel = await _user.PostAsync($"/api/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        using var submit = await _user.PostAsync($"/api/jobs/{id}/submit", null);
        Assert.Equal(HttpStatusCode.Conflict, submit.StatusCode);
    }

    [Fact]
    public async Task IdempotencyKey_ConcurrentRepeats_CreateOneJob()
    {
        var key = "order-" + Guid.NewGuid().ToString("N");
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = Json("""{"type":"demo.steps","input":{"steps":1}}""") };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await _user.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return (Id: (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!,
                Replayed: response.Headers.Contains("Idempotent-Replayed"));
        }));

        Assert.Single(responses.Select(r => r.Id).Distinct());
        Assert.Equal(7, responses.Count(r => r.Replayed));
        var id = responses[0].Id;
        Assert.Equal(key, (string?)JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}"))!["idempotencyKey"]);
        await RunnerFixture.WaitForEndAsync(_user, id);

        // The same key from someone else is their own job.
        using var other = runner.Client("ctl-other-" + Guid.NewGuid().ToString("N")[..6]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = Json("""{"type":"demo.steps","input":{"steps":1}}""") };
        request.Headers.Add("Idempotency-Key", key);
        using var theirs = await other.SendAsync(request);
        Assert.NotEqual(id, (string?)JsonNode.Parse(await theirs.Content.ReadAsStringAsync())!["id"]);

        using var mismatch = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = Json("""{"type":"demo.steps","idempotencyKey":"a"}""") };
        mismatch.Headers.Add("Idempotency-Key", "b");
        using var refused = await _user.SendAsync(mismatch);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task Timeout_PastTheDeadline_EndsTimedOut()
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(_user, new { type = "demo.steps", input = new { steps = 3, delayMs = 2000, timeoutSeconds = 1 } }))["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(_user, id);
        var job = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}"))!;
        var deadline = DateTimeOffset.Parse((string)job["deadline"]!, System.Globalization.CultureInfo.InvariantCulture);
        // The one timed-out ending, whether the first step had started by then or not (its 2 s outlast the 1-s deadline).
        Assert.Equal(("timed_out", JobOutcome.TimedOut(deadline).Message), ((string?)end["status"], (string?)end["message"]));
        Assert.NotNull(job["completedAt"]);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
