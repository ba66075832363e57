using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// At-least-once delivery across a <c>kill -9</c>: the runner that ended a job dies while its delivery is in flight
/// (the receiver holds the request open and never answers it), and the delivery still goes out after a fresh start —
/// the pending delivery row, written before the ending settled, is taken over by the sweep once overdue.
/// </summary>
public sealed class WebhookCrashTests : IAsyncLifetime
{
    private readonly RunnerProcess _runner = new(_ => { }, new Dictionary<string, string>
    {
        ["Jobs__Webhooks__AllowLoopbackHttp"] = "true",
        ["Jobs__Webhooks__TimeoutSeconds"] = "5",
        ["Jobs__Webhooks__SweepGraceSeconds"] = "6",
        ["Jobs__Runner__Schedules__DeliverOverdueWebhooks"] = "*/1 * * * * *",
    });

    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    [Fact]
    public async Task KilledWhileDelivering_TheEventIsDeliveredAfterTheRestart_WithTheSameWebhookId()
    {
        await _runner.StartAsync();
        var client = _runner.Client;
        using var subscribed = await client.PostAsJsonAsync("/api/webhooks", new { url = _receiver.UrlOf("crash"), events = new[] { "job.completed" } });
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        var subscription = JsonNode.Parse(await subscribed.Content.ReadAsStringAsync())!;
        await _receiver.ConfigureAsync("crash", (string)subscription["secret"]!, 0); // the first request is never answered

        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await Conditions.WaitUntilAsync(async () => (await _receiver.ReceivedAsync("crash")).Count == 1, "the first try never reached the receiver");
        await _runner.KillAsync(); // the try is in flight: nothing recorded it

        await _runner.StartAsync();
        // The sweep is a timer: the restarted runner takes the timers' lock once the killed one's lease has lapsed.
        for (var i = 0; i < 1200 && (await _receiver.ReceivedAsync("crash")).Count < 2; i++)
        {
            await Task.Delay(100);
        }
        var received = await _receiver.ReceivedAsync("crash");
        Assert.True(received.Count >= 2, "the delivery never went out after the restart:\n" + _runner.Output);
        Assert.All(received, r => Assert.True(r.Verified, r.Error));
        Assert.Equal(received[0].Id, received[1].Id);
        Assert.StartsWith(id + "-", received[1].Id, StringComparison.Ordinal);
        Assert.Equal(200, received[1].Answered);

        JsonArray log = [];
        await Conditions.WaitUntilAsync(async () =>
        {
            log = JsonNode.Parse(await client.GetStringAsync($"/api/webhooks/{(string)subscription["id"]!}/deliveries"))!["items"]!.AsArray();
            return log.Count == 1 && (string?)log[0]!["state"] == "delivered";
        }, "the delivery log never showed the delivery");
        Assert.Equal(1, (int)log[0]!["attempts"]!); // the killed try was never recorded
    }

    public async Task DisposeAsync()
    {
        _runner.Dispose();
        await _receiver.DisposeAsync();
    }
}
