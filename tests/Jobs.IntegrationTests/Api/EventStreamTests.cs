using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Api;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// <c>GET /api/jobs/{id}/events</c> on the runner, read as <c>EventSource</c> reads it (<see cref="SseClient"/>). Streams
/// here end after 3 s and beat every second, so every test crosses reconnects; the cap is 3 streams per caller.
/// </summary>
[Collection(EventStreamRunnerCollection.Name)]
public sealed class EventStreamTests(EventStreamRunnerFixture runner)
{
    private readonly string _owner = "sse-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task AJobsStream_IsItsStatusLogsAndEnd_AcrossReconnects_EveryLineOnceInOrder()
    {
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 4, delayMs = 1_500 } }))["id"]!;

        var connections = await SseClient.ReadToEndAsync(client, $"/api/jobs/{id}/events");

        Assert.True(connections.Count >= 2, $"a 6-second job over 3-second streams takes reconnects, got {connections.Count}");
        Assert.All(connections, c => Assert.Equal((HttpStatusCode.OK, "text/event-stream"), (c.Status, c.ContentType)));
        Assert.All(connections[..^1], c => Assert.Equal(1000, c.Retry)); // each ended by time, saying when to come back
        var events = connections.SelectMany(c => c.Events).ToList();
        Assert.Equal("status", events[0].Event);
        Assert.Equal("end", events[^1].Event);
        Assert.Equal(1, events.Count(e => e.Event == "end"));
        var end = JsonNode.Parse(events[^1].Data)!;
        Assert.Equal(("completed", 100), ((string?)end["status"], (int)end["progress"]!));

        // Every line of the log, once, in the log's order — across every reconnect.
        var streamed = events.Where(e => e.Event == "log").Select(e => JsonNode.Parse(e.Data)!).ToList();
        var logged = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray();
        Assert.Equal(logged.Select(l => (string)l!["cursor"]!), streamed.Select(l => (string)l["cursor"]!));
        Assert.Equal(logged.Select(l => (string)l!["message"]!), streamed.Select(l => (string)l["message"]!));

        // Progress moves forward only, and the stream showed the job running on the way.
        var statuses = events.Where(e => e.Event == "status").Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.Contains(statuses, s => (string?)s["status"] == "running" && (int)s["progress"]! is > 0 and < 100);
        var progress = statuses.Select(s => (int)s["progress"]!).ToList();
        Assert.Equal(progress.Order(), progress);
        Assert.All(events, e => Assert.True(EventPosition.TryParse(e.Id, out _), e.Id));
    }

    [Fact]
    public async Task Resume_AfterAnyEvent_SendsExactlyWhatFollows_NothingLostNothingRepeated()
    {
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 3 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        var reference = (await SseClient.ReadToEndAsync(client, $"/api/jobs/{id}/events")).SelectMany(c => c.Events).ToList();
        Assert.True(reference.Count(e => e.Event == "log") >= 9, string.Join(" | ", reference.Select(e => e.Event)));

        for (var k = 0; k < reference.Count - 1; k++)
        {
            var resumed = await SseClient.ReadOnceAsync(client, $"/api/jobs/{id}/events", reference[k].Id);
            var expectedLines = reference.Skip(k + 1).Where(e => e.Event == "log").Select(e => e.Data);
            Assert.Equal(expectedLines, resumed.Events.Where(e => e.Event == "log").Select(e => e.Data));
            Assert.Equal("end", resumed.Events[^1].Event);
            // The status it has is the final one from the first event on: it is not sent again.
            Assert.DoesNotContain(resumed.Events, e => e.Event == "status");
        }
        // After the end, EventSource is told to stop: 204.
        Assert.Equal(HttpStatusCode.NoContent, (await SseClient.ReadOnceAsync(client, $"/api/jobs/{id}/events", reference[^1].Id)).Status);
    }

    [Fact]
    public async Task Resume_WhileRunning_AfterADroppedConnection_LosesAndRepeatsNothing()
    {
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 3, delayMs = 800 } }))["id"]!;
        // Drop the connection after a few events (as a network would), then carry on from the last id, as EventSource does.
        // On a slow machine this fixture's own limit on a stream (MaxStreamSeconds, 3 s) can close it first, with fewer
        // events: the job is still running either way, and resuming from the last id is what is tested.
        var first = await SseClient.ReadOnceAsync(client, $"/api/jobs/{id}/events", stopAfter: 4);
        Assert.InRange(first.Events.Count, 1, 4);
        Assert.DoesNotContain(first.Events, e => e.Event == "end");
        var rest = await SseClient.ReadToEndAsync(client, $"/api/jobs/{id}/events", first.Events[^1].Id);
        var lines = first.Events.Concat(rest.SelectMany(c => c.Events)).Where(e => e.Event == "log").Select(e => (string)JsonNode.Parse(e.Data)!["cursor"]!).ToList();
        var logged = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray().Select(l => (string)l!["cursor"]!);
        Assert.Equal(logged, lines);
    }

    [Fact]
    public async Task AQuietJob_GetsHeartbeats_AndTheStreamEndsByItselfWithARetryHint()
    {
        using var client = runner.Client(_owner);
        using var created = await client.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true });
        var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;

        var connection = await SseClient.ReadOnceAsync(client, $"/api/jobs/{id}/events");

        Assert.Equal("status", Assert.Single(connection.Events).Event);
        Assert.Contains("keep-alive", connection.Comments);
        Assert.Equal(1000, connection.Retry);
        // Coming back with that id: nothing has changed, so nothing is sent again.
        var again = await SseClient.ReadOnceAsync(client, $"/api/jobs/{id}/events", connection.Events[0].Id);
        Assert.Empty(again.Events);
    }

    [Fact]
    public async Task Streams_AreTheOwnersOnly_AndBadIdsAreProblems()
    {
        using var owner = runner.Client(_owner);
        using var other = runner.Client("sse-other-" + Guid.NewGuid().ToString("N")[..8]);
        var id = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;

        using (var response = await other.GetAsync($"/api/jobs/{id}/events"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/events");
        request.Headers.Add("Last-Event-ID", "<script>");
        using (var response = await owner.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("Last-Event-ID", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var admin = runner.Client("sse-admin", "admin");
        Assert.Equal(HttpStatusCode.OK, (await SseClient.ReadOnceAsync(admin, $"/api/jobs/{id}/events", stopAfter: 1)).Status);
    }

    [Fact]
    public async Task Streams_BeyondTheCallersCap_Are429_OthersAndLaterOnesAreServed()
    {
        using var client = runner.Client(_owner);
        using var created = await client.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true });
        var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
        var url = $"/api/jobs/{id}/events";

        // Three open streams (the cap here), each held for its 3 seconds; the fourth asks once all three are answered.
        var answered = Enumerable.Range(0, EventStreamRunnerFixture.Cap).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToList();
        var open = answered.Select(a => SseClient.ReadOnceAsync(client, url, answered: a)).ToList();
        await Task.WhenAll(answered.Select(a => a.Task)).WaitAsync(TimeSpan.FromSeconds(30));
        using (var refused = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
        using var admin = runner.Client("sse-cap-admin", "admin");
        Assert.Equal(HttpStatusCode.OK, (await SseClient.ReadOnceAsync(admin, url, stopAfter: 1)).Status);
        Assert.All(await Task.WhenAll(open), c => Assert.Equal(HttpStatusCode.OK, c.Status));
        Assert.Equal(HttpStatusCode.OK, (await SseClient.ReadOnceAsync(client, url, stopAfter: 1)).Status);
    }
}

public sealed class EventStreamRunnerFixture : RunnerFixture
{
    public const int Cap = 3;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Jobs:Events:MaxStreamSeconds", "3"),
        new("Jobs:Events:HeartbeatSeconds", "1"),
        new("Jobs:Events:MaxStreamsPerCaller", Cap.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}

[CollectionDefinition(Name)]
[TakesAbout(30)]
public sealed class EventStreamRunnerCollection : ICollectionFixture<EventStreamRunnerFixture>
{
    public const string Name = "event-stream-runner";
}
