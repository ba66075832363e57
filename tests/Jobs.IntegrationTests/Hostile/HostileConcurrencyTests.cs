using System.Net;
using System.Text.Json.Nodes;
using Jobs.Testing;
using static Jobs.IntegrationTests.Hostile.HostileSetup;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Storms of the same request at once: creates under one idempotency key, cancels and submits of one job. Each storm
/// has one winner and every other answer says the request had already been done; what is stored is what one request
/// would have stored (one job, one ending, one orchestration, counts that add up).
/// </summary>
[Collection(HostileSuiteCollection.Name)]
public sealed class HostileConcurrencyTests(HostileSuiteRunnerFixture runner)
{
    private const int Storm = 24;

    [Fact]
    public async Task ConcurrentCreates_UnderOneKey_AreOneJob_OneCreatedAndTheRestReplayed()
    {
        using var owner = runner.Client(NewUser("storm-create"));
        var key = "storm-" + Guid.NewGuid().ToString("N");

        var answers = await Task.WhenAll(Enumerable.Range(0, Storm).Select(async _ =>
        {
            using var request = Request("POST", "/api/jobs", """{"type":"demo.steps","input":{"steps":1}}""");
            request.Headers.Add("Idempotency-Key", key);
            using var response = await owner.SendAsync(request);
            return (response.StatusCode, Id: (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"],
                Replayed: response.Headers.Contains("Idempotent-Replayed"));
        }));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
        var id = Assert.Single(answers.Select(a => a.Id).Distinct());
        Assert.Equal(Storm - 1, answers.Count(a => a.Replayed));
        await RunnerFixture.WaitForEndAsync(owner, id!);
        var listed = JsonNode.Parse(await owner.GetStringAsync("/api/jobs"))!;
        Assert.Equal(id, (string?)Assert.Single(listed["jobs"]!.AsArray())!["id"]);
        Assert.Equal(1, (long)listed["pagination"]!["total"]!);
        Assert.Equal(1, (long)JsonNode.Parse(await owner.GetStringAsync("/api/jobs/stats"))!["total"]!);
        await RunnerFixture.WaitForRuntimeStatusAsync(owner, $"/api/jobs/{id}/instance", "Completed");
    }

    [Fact]
    public async Task CancelStorm_OnADraft_OneCancels_TheRestAre409_OneEndingStored()
    {
        var ownerId = NewUser("storm-cancel");
        using var owner = runner.Client(ownerId);
        var draft = await DraftAsync(owner);

        var statuses = await StormAsync(owner, "POST", $"/api/jobs/{draft}/cancel");

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(Storm - 1, statuses.Count(s => s == HttpStatusCode.Conflict));
        await AssertOneCancellationAsync(owner, draft, ownerId);
    }

    [Fact]
    public async Task CancelStorm_OnAScheduledJob_OneCancels_TheRestAre409_ItsOrchestrationIsTerminatedOnce()
    {
        var ownerId = NewUser("storm-sched");
        using var owner = runner.Client(ownerId);
        var notBefore = DateTimeOffset.UtcNow.AddDays(1).ToString("O");
        var id = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 1 }, notBefore }))["id"]!;
        await RunnerFixture.WaitForRuntimeStatusAsync(owner, $"/api/jobs/{id}/instance", "Running");

        var statuses = await StormAsync(owner, "POST", $"/api/jobs/{id}/cancel");

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(Storm - 1, statuses.Count(s => s == HttpStatusCode.Conflict));
        await AssertOneCancellationAsync(owner, id, ownerId);
        await RunnerFixture.WaitForRuntimeStatusAsync(owner, $"/api/jobs/{id}/instance", "Terminated");
    }

    [Fact]
    public async Task SubmitStorm_OnADraft_StartsItOnce_TheRestAre409()
    {
        using var owner = runner.Client(NewUser("storm-submit"));
        var draft = await DraftAsync(owner);

        var statuses = await StormAsync(owner, "POST", $"/api/jobs/{draft}/submit");

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(Storm - 1, statuses.Count(s => s == HttpStatusCode.Conflict));
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(owner, draft))["status"]);
        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(owner, draft);
        Assert.Single(lines, l => l.StartsWith("Job completed", StringComparison.Ordinal));
        await RunnerFixture.WaitForRuntimeStatusAsync(owner, $"/api/jobs/{draft}/instance", "Completed");
    }

    private static async Task<HttpStatusCode[]> StormAsync(HttpClient client, string method, string path) =>
        await Task.WhenAll(Enumerable.Range(0, Storm).Select(async _ =>
        {
            using var response = await client.SendAsync(Request(method, path));
            return response.StatusCode;
        }));

    /// <summary>The job is cancelled, its log says so once, and the owner's counts hold it once, as cancelled.</summary>
    private static async Task AssertOneCancellationAsync(HttpClient owner, string id, string ownerId)
    {
        var job = JsonNode.Parse(await owner.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal("cancelled", (string?)job["status"]);
        var lines = JsonNode.Parse(await owner.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray()
            .Select(l => (string)l!["message"]!).ToList();
        Assert.Single(lines, l => l.Contains($"Cancelled by {ownerId}", StringComparison.Ordinal));
        var stats = JsonNode.Parse(await owner.GetStringAsync("/api/jobs/stats"))!;
        Assert.Equal(1, (long)stats["total"]!);
        Assert.Equal(1, (long)stats["byStatus"]!["cancelled"]!);
    }
}
