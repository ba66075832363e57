using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// At-least-once delivery across a <c>kill -9</c>, on both paths a delivery can be left on: the runner that ended a job
/// dies while the event's first try is in flight (the receiver holds the request open and never answers it), and the
/// event still goes out, with the same <c>webhook-id</c>, after a fresh start.
/// <list type="bullet">
/// <item>Before any delivery row exists (the first try is made before the change settles, and recorded by one write):
/// the change is left unsettled, and the reconciler's re-projection announces it again.</item>
/// <item>After the pending row (the receiver outlasted <c>FirstTryWaitMilliseconds</c>, so the row was written and the
/// change settled): the sweep takes the row over once its claim lapses.</item>
/// </list>
/// </summary>
public abstract class WebhookCrashCases : IAsyncLifetime
{
    protected RunnerProcess Host { get; set; } = null!;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    protected static RunnerProcess Runner(int firstTryWaitMilliseconds) => new(_ => { }, new Dictionary<string, string>
    {
        ["Jobs__Webhooks__AllowLoopbackHttp"] = "true",
        ["Jobs__Webhooks__TimeoutSeconds"] = "5",
        ["Jobs__Webhooks__SweepGraceSeconds"] = "6",
        ["Jobs__Webhooks__FirstTryWaitMilliseconds"] = firstTryWaitMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Jobs__Runner__Schedules__DeliverOverdueWebhooks"] = "*/1 * * * * *",
        ["Jobs__Runner__Schedules__SweepTimedOutJobs"] = "*/1 * * * * *",
        ["Jobs__Reconciler__GraceSeconds"] = "1",
    });

    protected async Task<(string JobId, string SubscriptionId)> EndAJobWhileItsFirstTryHangsAsync()
    {
        await Host.StartAsync();
        var client = Host.Client;
        using var subscribed = await client.PostAsJsonAsync("/api/webhooks", new { url = _receiver.UrlOf("crash"), events = new[] { "job.completed" } });
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        var subscription = JsonNode.Parse(await subscribed.Content.ReadAsStringAsync())!;
        await _receiver.ConfigureAsync("crash", (string)subscription["secret"]!, 0); // the first request is never answered

        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await Conditions.WaitUntilAsync(async () => (await _receiver.ReceivedAsync("crash")).Count == 1, "the first try never reached the receiver");
        return (id, (string)subscription["id"]!);
    }

    protected async Task AssertDeliveredOnceMoreAsync(string jobId, string subscription)
    {
        // The reconciler and the sweep are timers: the restarted runner takes the timers' lock once the killed one's lease has lapsed.
        for (var i = 0; i < 1200 && (await _receiver.ReceivedAsync("crash")).Count < 2; i++)
        {
            await Task.Delay(100);
        }
        var received = await _receiver.ReceivedAsync("crash");
        Assert.True(received.Count >= 2, "the delivery never went out after the restart:\n" + Host.Output);
        Assert.All(received, r => Assert.True(r.Verified, r.Error));
        Assert.Equal(received[0].Id, received[1].Id);
        Assert.StartsWith(jobId + "-", received[1].Id, StringComparison.Ordinal);
        Assert.Equal(200, received[1].Answered);

        JsonArray log = [];
        await Conditions.WaitUntilAsync(async () =>
        {
            log = await DeliveriesAsync(subscription);
            return log.Count == 1 && (string?)log[0]!["state"] == "delivered";
        }, "the delivery log never showed the delivery");
        Assert.Equal(1, (int)log[0]!["attempts"]!); // the killed try was never recorded
    }

    protected async Task<JsonArray> DeliveriesAsync(string subscription) =>
        JsonNode.Parse(await Host.Client.GetStringAsync($"/api/webhooks/{subscription}/deliveries"))!["items"]!.AsArray();

    public async Task DisposeAsync()
    {
        Host?.Dispose();
        await _receiver.DisposeAsync();
    }
}

/// <summary>The first path of <see cref="WebhookCrashCases"/>: killed before any delivery row is written.</summary>
[TakesAbout(65)]
public sealed class WebhookCrashTests : WebhookCrashCases
{
    [Fact]
    public async Task KilledAfterTheEndingCommits_BeforeAnyDeliveryRowIsWritten_TheReconcilersReprojectionDeliversIt()
    {
        // The write path waits for the first try longer than a try may take: no row is written before it answers.
        Host = Runner(firstTryWaitMilliseconds: 30_000);
        var (id, subscription) = await EndAJobWhileItsFirstTryHangsAsync();
        // Nothing records the delivery: only the job's unsettled change knows it is owed.
        Assert.Empty(await DeliveriesAsync(subscription));
        await Host.KillAsync();

        await Host.StartAsync();
        await AssertDeliveredOnceMoreAsync(id, subscription);
    }
}

/// <summary>
/// The second path of <see cref="WebhookCrashCases"/>: killed after the pending row. A class of its own, so that its wait
/// for the killed runner's timer lease runs beside the first path's instead of after it.
/// </summary>
[TakesAbout(65)]
public sealed class WebhookSweepCrashTests : WebhookCrashCases
{
    [Fact]
    public async Task KilledWhileASlowFirstTryIsInFlight_AfterItsPendingRow_TheSweepDeliversIt()
    {
        Host = Runner(firstTryWaitMilliseconds: 200);
        var (id, subscription) = await EndAJobWhileItsFirstTryHangsAsync();
        // The receiver outlasted the wait: the pending row (claimed by this process) was written, and the change settled.
        await Conditions.WaitUntilAsync(async () => (await DeliveriesAsync(subscription)).Count == 1, "the pending row was never written");
        await Host.KillAsync();

        await Host.StartAsync();
        await AssertDeliveredOnceMoreAsync(id, subscription);
    }
}
