using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// The management URLs behave as Durable Functions documents its HTTP API, both the per-job ones everybody gets
/// and the native ones (system key) admins get.
/// </summary>
[Collection(SecondRunnerCollection.Name)]
public sealed class DurableHttpApiTests(RunnerFixture runner)
{
    private readonly HttpClient _owner = runner.Client("owner-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task StatusQueryGetUri_Is202WithLocationAndRetryAfterWhileRunning_Then200WithOutput()
    {
        var created = await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 2, delayMs = 2000 } });
        var statusUri = (string)created["statusQueryGetUri"]!;

        using var running = await _owner.GetAsync(statusUri);
        Assert.Equal(HttpStatusCode.Accepted, running.StatusCode);
        Assert.Equal(statusUri, running.Headers.Location!.ToString());
        Assert.Equal(TimeSpan.FromSeconds(5), running.Headers.RetryAfter!.Delta);
        var body = JsonNode.Parse(await running.Content.ReadAsStringAsync())!;
        Assert.Contains((string?)body["runtimeStatus"], new[] { "Pending", "Running" });
        Assert.Equal("JobOrchestrator", (string?)body["name"]);
        Assert.Equal((string?)created["id"], (string?)body["instanceId"]);

        JsonNode? done = null;
        for (var i = 0; i < 200 && done is null; i++)
        {
            using var poll = await _owner.GetAsync(statusUri);
            if (poll.StatusCode == HttpStatusCode.OK)
            {
                done = JsonNode.Parse(await poll.Content.ReadAsStringAsync());
            }
            else
            {
                await Task.Delay(100);
            }
        }
        Assert.NotNull(done);
        Assert.Equal("Completed", (string?)done["runtimeStatus"]);
        Assert.Equal("completed", (string?)done["output"]!["status"]);
        Assert.Equal(100, (int)done["customStatus"]!["progress"]!);
        Assert.NotNull(done["input"]);
        Assert.Matches("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$", (string)done["createdTime"]!);

        using var noInput = await _owner.GetAsync(statusUri + "?showInput=false&showHistory=true");
        var withHistory = JsonNode.Parse(await noInput.Content.ReadAsStringAsync())!;
        Assert.Null(withHistory["input"]);
        Assert.True(withHistory["historyEvents"]!.AsArray().Count > 5);
    }

    [Fact]
    public async Task TerminatePostUri_StopsARunningJob_AndRecordsItCancelled()
    {
        var created = await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 5, delayMs = 2000 } });
        var id = (string)created["id"]!;
        await RunnerFixture.PollStatusAsync(_owner, id, s => (string?)s["status"] == "running");

        var terminate = ((string)created["terminatePostUri"]!).Replace("{text}", "operator+stop", StringComparison.Ordinal);
        using var response = await _owner.PostAsync(terminate, null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var status = await RunnerFixture.WaitForEndAsync(_owner, id);
        Assert.Equal("cancelled", (string?)status["status"]);
        Assert.Contains("operator stop", (string?)status["message"], StringComparison.Ordinal);

        var instance = await RunnerFixture.WaitForRuntimeStatusAsync(_owner, (string)created["statusQueryGetUri"]!, "Terminated");
        Assert.Equal("Terminated", (string?)instance["runtimeStatus"]);

        using var again = await _owner.PostAsync(terminate, null);
        Assert.Equal(HttpStatusCode.Gone, again.StatusCode);
    }

    [Fact]
    public async Task SendEventOfANameTheJobDoesNotWaitFor_Is404_AndPurge_FollowsTheDurableRules()
    {
        var created = await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 1, delayMs = 1500 } });
        var id = (string)created["id"]!;
        var raise = ((string)created["sendEventPostUri"]!).Replace("{eventName}", "poke", StringComparison.Ordinal);

        // The extension answers 400 here; this API answers every non-JSON body 415 (docs/decisions.md, issue 25).
        using var notJson = await _owner.PostAsync(raise, new StringContent("hi", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notJson.StatusCode);
        // demo.steps waits for no event (issue 25); an event it declares is accepted: see HostileEventsTests.
        using var raised = await _owner.PostAsJsonAsync(raise, new { hello = "world" });
        Assert.Equal(HttpStatusCode.NotFound, raised.StatusCode);

        using var tooEarly = await _owner.DeleteAsync((string)created["purgeHistoryDeleteUri"]!);
        Assert.Equal(HttpStatusCode.PreconditionFailed, tooEarly.StatusCode);

        await RunnerFixture.WaitForEndAsync(_owner, id);
        await RunnerFixture.WaitForRuntimeStatusAsync(_owner, (string)created["statusQueryGetUri"]!, "Completed");

        using var purged = await _owner.DeleteAsync((string)created["purgeHistoryDeleteUri"]!);
        Assert.Equal(HttpStatusCode.OK, purged.StatusCode);
        Assert.Equal(1, (int)JsonNode.Parse(await purged.Content.ReadAsStringAsync())!["instancesDeleted"]!);
        using var gone = await _owner.GetAsync((string)created["statusQueryGetUri"]!);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        // The job record outlives its durable history.
        Assert.Equal("completed", (string?)JsonNode.Parse(await _owner.GetStringAsync($"/api/jobs/{id}/status"))!["status"]);
    }

    [Fact]
    public async Task PerJobUrls_OfAnotherUsersJob_Are404()
    {
        var created = await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 1 } });
        using var stranger = runner.Client("stranger");
        using var response = await stranger.GetAsync((string)created["statusQueryGetUri"]!);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var terminate = await stranger.PostAsync(((string)created["terminatePostUri"]!).Replace("{text}", "x", StringComparison.Ordinal), null);
        Assert.Equal(HttpStatusCode.NotFound, terminate.StatusCode);
    }

    [Fact]
    public async Task NativeUrls_GoToAdminsOnly_AndCarryTheSystemKey()
    {
        using var admin = runner.Client("admin-" + Guid.NewGuid().ToString("N")[..6], "admin");
        var created = await RunnerFixture.CreateJobAsync(admin, new { type = "demo.steps", input = new { steps = 1 } });
        var native = created["nativeManagementUrls"]!;
        var statusUri = (string)native["statusQueryGetUri"]!;
        Assert.Contains("/runtime/webhooks/durabletask/instances/", statusUri, StringComparison.Ordinal);
        Assert.Contains($"taskHub={runner.HubName}", statusUri, StringComparison.Ordinal);
        Assert.Contains($"code={runner.SystemKey}", statusUri, StringComparison.Ordinal);

        using var anonymous = new HttpClient();
        await RunnerFixture.WaitForRuntimeStatusAsync(anonymous, statusUri, "Completed");

        // Keys are not required here (the local default), so the native API needs no code, as under func start
        // without --enableAuth (Core Tools' CliAuthenticationHandler makes every caller an admin); FunctionKeyTests
        // covers the keyed case.
        using var noKey = await anonymous.GetAsync(statusUri.Split('?')[0]);
        Assert.Equal(HttpStatusCode.OK, noKey.StatusCode);
        using var wrongHub = await anonymous.GetAsync(statusUri.Replace($"taskHub={runner.HubName}", "taskHub=Other", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, wrongHub.StatusCode);
        using var terminateEnded = await anonymous.PostAsync(((string)native["terminatePostUri"]!).Replace("{text}", "late", StringComparison.Ordinal), null);
        Assert.Equal(HttpStatusCode.Gone, terminateEnded.StatusCode);
        using var history = await anonymous.GetAsync(statusUri + "&showHistory=true");
        Assert.True(JsonNode.Parse(await history.Content.ReadAsStringAsync())!["historyEvents"]!.AsArray().Count > 3);
    }

    [Fact]
    public async Task NativeApi_ListsInstancesWithContinuationTokens_AndPurgesByTime()
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((string)(await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!);
        }
        foreach (var id in ids)
        {
            await RunnerFixture.WaitForEndAsync(_owner, id);
        }

        using var client = new HttpClient { BaseAddress = runner.BaseAddress };
        var query = $"/runtime/webhooks/durabletask/instances?code={runner.SystemKey}&top=2&createdTimeFrom={Uri.EscapeDataString(since.ToString("O"))}";
        var listed = new List<string>();
        string? token = null;
        for (var page = 0; page < 20; page++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, query);
            if (token is not null)
            {
                request.Headers.Add("x-ms-continuation-token", token);
            }
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var items = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
            Assert.True(items.Count <= 2);
            listed.AddRange(items.Select(i => (string)i!["instanceId"]!));
            token = response.Headers.TryGetValues("x-ms-continuation-token", out var values) ? values.First() : null;
            if (token is null)
            {
                break;
            }
        }
        Assert.Superset(ids.ToHashSet(), listed.ToHashSet());

        using var noFrom = await client.DeleteAsync($"/runtime/webhooks/durabletask/instances?code={runner.SystemKey}");
        Assert.Equal(HttpStatusCode.BadRequest, noFrom.StatusCode);
        using var purge = await client.DeleteAsync(
            $"/runtime/webhooks/durabletask/instances/{ids[0]}?code={runner.SystemKey}");
        Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        using var unknown = await client.DeleteAsync($"/runtime/webhooks/durabletask/instances/{ids[0]}?code={runner.SystemKey}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task NativeApi_SuspendsAndResumesARunningInstance()
    {
        using var admin = runner.Client("admin-sr", "admin");
        var created = await RunnerFixture.CreateJobAsync(admin, new { type = "demo.steps", input = new { steps = 3, delayMs = 600 } });
        var id = (string)created["id"]!;
        await RunnerFixture.PollStatusAsync(admin, id, s => (string?)s["status"] == "running");
        using var client = new HttpClient { BaseAddress = runner.BaseAddress };
        var baseUri = $"/runtime/webhooks/durabletask/instances/{id}";

        using var suspend = await client.PostAsync($"{baseUri}/suspend?reason=hold&code={runner.SystemKey}", null);
        Assert.Equal(HttpStatusCode.Accepted, suspend.StatusCode);
        await RunnerFixture.WaitForRuntimeStatusAsync(client, $"{baseUri}?code={runner.SystemKey}", "Suspended");
        using var resume = await client.PostAsync($"{baseUri}/resume?reason=go&code={runner.SystemKey}", null);
        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(admin, id))["status"]);
        // The record ends just before its orchestration does: wait for the instance itself to complete.
        await RunnerFixture.WaitForRuntimeStatusAsync(client, $"{baseUri}?code={runner.SystemKey}", "Completed");

        using var raise = await client.PostAsync($"{baseUri}/raiseEvent/x?code={runner.SystemKey}", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Gone, raise.StatusCode);
        // HttpApiHandler checks the instance before the content type: an ended instance is 410 whatever is sent.
        using var notJson = await client.PostAsync($"{baseUri}/raiseEvent/x?code={runner.SystemKey}", new StringContent("x"));
        Assert.Equal(HttpStatusCode.Gone, notJson.StatusCode);
        using var unknown = await client.GetAsync($"/runtime/webhooks/durabletask/instances/{Guid.NewGuid():N}?code={runner.SystemKey}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
