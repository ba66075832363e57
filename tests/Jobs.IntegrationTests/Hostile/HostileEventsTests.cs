using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Issue 25, item 1 (event spam): the per-job raiseEvent route takes only the events the job's type declares it waits
/// for, of a bounded size, and a bounded number not yet consumed; each refusal sends and stores nothing.
/// </summary>
[Collection(HostileRunnerCollection.Name)]
public sealed class HostileEventsTests(HostileRunnerFixture runner)
{
    [Fact]
    public async Task RaiseEvent_NameTheJobTypeDoesNotWaitFor_Is404NamingEventName_AndStoresNothing()
    {
        var (client, id) = await RunningJobAsync();
        var before = await CaptureJobAsync(id);

        using var response = await RaiseAsync(client, id, "spam", """{"x":1}""");

        var problem = await ProblemAssert.IsAsync(response, HttpStatusCode.NotFound, "eventName");
        Assert.Contains(EventfulHandler.EventName, (string?)problem["detail"], StringComparison.Ordinal);
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task RaiseEvent_OnAJobWhoseTypeWaitsForNone_Is404NamingEventName()
    {
        using var client = runner.Client("events-demo-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await HostileRequests.CreateDraftAsync(client, new { type = "demo.steps" });
        var before = await CaptureJobAsync(id);

        using var response = await RaiseAsync(client, id, EventfulHandler.EventName, "{}");

        var problem = await ProblemAssert.IsAsync(response, HttpStatusCode.NotFound, "eventName");
        Assert.Contains("wait for: none", (string?)problem["detail"], StringComparison.Ordinal);
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task RaiseEvent_PayloadOverTheCap_Is413NamingBody_AndStoresNothing()
    {
        var (client, id) = await RunningJobAsync();
        var before = await CaptureJobAsync(id);

        using var response = await RaiseAsync(client, id, EventfulHandler.EventName, "\"" + new string('x', 20_000) + "\"");

        await ProblemAssert.IsAsync(response, HttpStatusCode.RequestEntityTooLarge, "body");
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task RaiseEvent_DeclaredEvent_IsAcceptedUpToThePendingCap_ThenIs409_AndStoresNothingMore()
    {
        var (client, id) = await RunningJobAsync();
        for (var i = 0; i < HostileRunnerFixture.MaxPendingEvents; i++)
        {
            using var accepted = await RaiseAsync(client, id, EventfulHandler.EventName, $$"""{"n":{{i}}}""");
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        // The accepted events reach the orchestration's history on their own time: wait for all of them before capturing.
        var history = new TableClient(TestStorage.ConnectionString, runner.HubName + "History");
        await Conditions.WaitUntilAsync(async () =>
        {
            var raised = 0;
            await foreach (var row in history.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {id}")))
            {
                raised += row.GetString("EventType") == "EventRaised" ? 1 : 0;
            }
            return raised == HostileRunnerFixture.MaxPendingEvents;
        }, "the accepted events in the orchestration's history");
        var before = await CaptureJobAsync(id);

        using var refused = await RaiseAsync(client, id, EventfulHandler.EventName, """{"n":"one too many"}""");

        var problem = await ProblemAssert.IsAsync(refused, HttpStatusCode.Conflict, "eventName");
        Assert.Contains($"{HostileRunnerFixture.MaxPendingEvents} raised events", (string?)problem["detail"], StringComparison.Ordinal);
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task RaiseEvent_DeclaredEvent_OnAnEndedJob_Is410_AndStoresNothing()
    {
        using var client = runner.Client("events-ended-" + Guid.NewGuid().ToString("N")[..8]);
        var created = await RunnerFixture.CreateJobAsync(client, new { type = EventfulHandler.TypeName, input = new { holdMs = 0 } });
        var id = (string)created["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        await RunnerFixture.WaitForRuntimeStatusAsync(client, (string)created["statusQueryGetUri"]!, "Completed");
        var before = await CaptureJobAsync(id);

        using var response = await RaiseAsync(client, id, EventfulHandler.EventName, "{}");

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task JobTypes_ListTheEventsEachTypeWaitsFor()
    {
        using var client = runner.Client("events-types");
        var types = JsonNode.Parse(await client.GetStringAsync("/api/job-types"))!["jobTypes"]!.AsArray();

        var events = types.ToDictionary(t => (string)t!["type"]!, t => t!["events"]!.AsArray().Select(e => (string)e!["name"]!).ToList());
        Assert.Equal([EventfulHandler.EventName], events[EventfulHandler.TypeName]);
        Assert.Empty(events["demo.steps"]);
    }

    /// <summary>
    /// A signed-in owner with a <c>test.events</c> job whose step is running. It holds for ten minutes, longer than the
    /// suite runs, so it writes nothing more while later tests compare what is stored (the runner releases it on stopping).
    /// </summary>
    private async Task<(HttpClient Client, string Id)> RunningJobAsync()
    {
        var client = runner.Client("events-" + Guid.NewGuid().ToString("N")[..8]);
        var created = await RunnerFixture.CreateJobAsync(client, new { type = EventfulHandler.TypeName, input = new { holdMs = 600_000 } });
        var id = (string)created["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "running");
        return (client, id);
    }

    /// <summary>The job's partition of the app's table and its orchestration's rows in the hub's tables.</summary>
    private Task<StoredState> CaptureJobAsync(string id) => StoredState.CaptureAsync(runner, partition => partition == id);

    private static Task<HttpResponseMessage> RaiseAsync(HttpClient client, string id, string name, string json) =>
        client.PostAsync($"/api/jobs/{id}/instance/raiseEvent/{name}", new StringContent(json, Encoding.UTF8, "application/json"));
}
