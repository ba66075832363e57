using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Testing;
using StandardWebhooks;

namespace Jobs.IntegrationTests.Webhooks;

/// <summary>
/// Webhooks end to end: the real app in the runner delivers to a Node receiver on loopback that verifies every request
/// with the independent <c>standardwebhooks</c> npm package (<see cref="WebhookReceiver"/>).
/// </summary>
[Collection(WebhookRunnerCollection.Name)]
public sealed class WebhookDeliveryTests(WebhookRunnerFixture runner) : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task StartedAndCompleted_AreSignedCloudEvents_ThatStandardWebhooksVerifies_AndTheLogShowsThem()
    {
        using var owner = runner.Client(NewUser("deliver"));
        var (subscription, secret) = await SubscribeAsync(owner, "deliver", ["job.started", "job.completed"]);
        var job = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(owner, job);

        var received = await WaitForAsync("deliver", r => r.Count >= 2);
        Assert.Equal(2, received.Count);
        Assert.All(received, r => Assert.True(r.Verified, r.Error));
        Assert.All(received, r => Assert.StartsWith("application/cloudevents+json", r.ContentType, StringComparison.Ordinal));
        var events = received.Select(r => (Request: r, Event: JsonNode.Parse(r.Body)!)).ToList();
        Assert.Equal(["jobs.job.started", "jobs.job.completed"], events.Select(e => (string)e.Event["type"]!).Order(StringComparer.Ordinal).Reverse());
        foreach (var (request, cloudEvent) in events)
        {
            Assert.Equal("1.0", (string?)cloudEvent["specversion"]);
            Assert.Equal(job, (string?)cloudEvent["subject"]);
            Assert.Equal(request.Id, (string?)cloudEvent["id"]); // webhook-id is the event's id
            Assert.StartsWith(job + "-", request.Id, StringComparison.Ordinal);
            Assert.NotNull((string?)cloudEvent["time"]);
            Assert.Equal("application/json", (string?)cloudEvent["datacontenttype"]);
            Assert.Equal(job, (string?)cloudEvent["data"]!["id"]);
            Assert.EndsWith($"/api/jobs/{job}/status", (string?)cloudEvent["data"]!["links"]!["status"], StringComparison.Ordinal);
        }
        var completed = events.Single(e => (string)e.Event["type"]! == "jobs.job.completed");
        Assert.Equal("completed", (string?)completed.Event["data"]!["status"]);
        Assert.Equal("running", (string?)events.Single(e => (string)e.Event["type"]! == "jobs.job.started").Event["data"]!["status"]);

        // The receiver refuses a tampered body, and a correctly signed request whose timestamp is old.
        var headers = new Dictionary<string, string>
        {
            ["webhook-id"] = completed.Request.Id!,
            ["webhook-timestamp"] = completed.Request.Timestamp!,
            ["webhook-signature"] = completed.Request.Signature!,
        };
        Assert.True((await _receiver.VerifyAsync("deliver", completed.Request.Body, headers)).Verified);
        var tampered = await _receiver.VerifyAsync("deliver", completed.Request.Body.Replace("\"completed\"", "\"failed\"", StringComparison.Ordinal), headers);
        Assert.False(tampered.Verified);
        var old = DateTimeOffset.UtcNow.AddMinutes(-10);
        var oldHeaders = new Dictionary<string, string>
        {
            ["webhook-id"] = completed.Request.Id!,
            ["webhook-timestamp"] = old.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["webhook-signature"] = new StandardWebhook(secret).Sign(completed.Request.Id!, old, completed.Request.Body),
        };
        var stale = await _receiver.VerifyAsync("deliver", completed.Request.Body, oldHeaders);
        Assert.False(stale.Verified);
        Assert.Contains("too old", stale.Error, StringComparison.OrdinalIgnoreCase);

        // The log: one delivery per event, delivered at the first try.
        var log = await DeliveriesAsync(owner, subscription, items => items.Count == 2 && items.All(d => (string?)d!["state"] == "delivered"));
        Assert.All(log, d =>
        {
            Assert.Equal(1, (int)d!["attempts"]!);
            Assert.Equal(200, (int)d["responseCode"]!);
            Assert.True((int)d["latencyMs"]! >= 0);
            Assert.Null(d["nextTryAt"]);
            Assert.Equal(job, (string?)d["jobId"]);
        });

        // A manual retry sends the same event again, with the same webhook-id.
        var deliveryId = (string)log.Single(d => (string?)d!["event"] == "job.completed")!["id"]!;
        using (var retry = await owner.PostAsync($"/api/webhooks/{subscription}/deliveries/{deliveryId}/retry", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        }
        var again = await WaitForAsync("deliver", r => r.Count >= 3);
        Assert.Equal(completed.Request.Id, again[^1].Id);
        Assert.True(again[^1].Verified, again[^1].Error);
        await DeliveriesAsync(owner, subscription, items => items.Any(d => (string?)d!["id"] == deliveryId && (int)d["attempts"]! == 2 && (string?)d["state"] == "delivered"));
    }

    [Fact]
    public async Task AJobBackFromWaiting_IsNoNewStart_ItsSubscriberGetsOneStartedAndOneCompleted()
    {
        // running → waiting (the deploy step asks) → running (approved) → completed.
        using var owner = runner.Client(NewUser("resume"));
        var (subscription, _) = await SubscribeAsync(owner, "resume", ["job.started", "job.completed"]);
        var job = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.approval" }))["id"]!;
        await GetAsync(owner, $"/api/jobs/{job}", j => (string?)j["status"] == "waiting");
        await DecideAsync(owner, job, "approve");
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(owner, job))["status"]);

        await AssertStartedOnceThenCompletedAsync(owner, subscription, "resume", job);
    }

    [Fact]
    public async Task AJobThatWaitsBeforeItsFirstStepRuns_StartsWhenItWaits_AndOnlyThen()
    {
        // A resume of a rejected approval starts at deploy, which asks first: pending → waiting → running → completed.
        using var owner = runner.Client(NewUser("waits-first"));
        var original = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.approval" }))["id"]!;
        await GetAsync(owner, $"/api/jobs/{original}", j => (string?)j["status"] == "waiting");
        await DecideAsync(owner, original, "reject");
        Assert.Equal("failed", (string?)(await RunnerFixture.WaitForEndAsync(owner, original))["status"]);
        var (subscription, _) = await SubscribeAsync(owner, "waits-first", ["job.started", "job.completed"]);
        string job;
        using (var rerun = await owner.PostAsJsonAsync($"/api/jobs/{original}/rerun", new { from = "failed-step" }))
        {
            var text = await rerun.Content.ReadAsStringAsync();
            Assert.True(rerun.StatusCode == HttpStatusCode.Accepted, $"{(int)rerun.StatusCode}: {text}");
            job = (string)JsonNode.Parse(text)!["id"]!;
        }
        var waiting = await GetAsync(owner, $"/api/jobs/{job}", j => (string?)j["status"] == "waiting");
        Assert.Equal("deploy", (string?)waiting["decision"]!["step"]);
        var started = await DeliveriesAsync(owner, subscription, items => items.Any(d => (string?)d!["state"] == "delivered"));
        Assert.Equal(("job.started", job), ((string?)started.Single()!["event"], (string?)started.Single()!["jobId"])); // sent when it began to wait
        await DecideAsync(owner, job, "approve");
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(owner, job))["status"]);

        await AssertStartedOnceThenCompletedAsync(owner, subscription, "waits-first", job);
    }

    private static async Task DecideAsync(HttpClient owner, string job, string decision)
    {
        using var answer = await owner.PostAsJsonAsync($"/api/jobs/{job}/decisions/deploy", new { decision });
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    /// <summary>
    /// The subscription's log holds one job.started and one job.completed for <paramref name="job"/>, both delivered, and so
    /// did the receiver. Each change's delivery row is written before the change settles, so a second job.started would be
    /// in the log before the job could complete.
    /// </summary>
    private async Task AssertStartedOnceThenCompletedAsync(HttpClient owner, string subscription, string hook, string job)
    {
        var log = await DeliveriesAsync(owner, subscription, items =>
            items.Any(d => (string?)d!["event"] == "job.completed") && items.All(d => (string?)d!["state"] == "delivered"));
        Assert.All(log, d => Assert.Equal(job, (string?)d!["jobId"]));
        Assert.Equal(["job.completed", "job.started"], log.Select(d => (string)d!["event"]!).Order(StringComparer.Ordinal));
        var received = await _receiver.ReceivedAsync(hook);
        Assert.Equal(["jobs.job.completed", "jobs.job.started"], received.Select(r => (string)JsonNode.Parse(r.Body)!["type"]!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ReceiverAnswering500Twice_GetsTheSameWebhookIdThreeTimes_AndTheLogShowsThreeAttempts()
    {
        using var owner = runner.Client(NewUser("retry"));
        var (subscription, _) = await SubscribeAsync(owner, "retry", ["job.completed"], 500, 500);
        var job = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(owner, job);

        var received = await WaitForAsync("retry", r => r.Count >= 3);
        Assert.Equal([500, 500, 200], received.Select(r => r.Answered));
        Assert.Single(received.Select(r => r.Id).Distinct());
        Assert.All(received, r => Assert.True(r.Verified, r.Error));
        Assert.Single(received.Select(r => r.Body).Distinct()); // the same event each time

        var log = await DeliveriesAsync(owner, subscription, items => items.Count == 1 && (string?)items[0]!["state"] == "delivered");
        Assert.Equal(3, (int)log[0]!["attempts"]!);
        Assert.Equal(200, (int)log[0]!["responseCode"]!);
        Assert.Equal(received[0].Id, (string?)log[0]!["eventId"]);
    }

    [Fact]
    public async Task DeliveryFailingEveryTry_IsMarkedFailed_AndItsSubscriptionDisabledWithTheReason()
    {
        using var owner = runner.Client(NewUser("failing"));
        var (subscription, _) = await SubscribeAsync(owner, "failing", ["job.completed"], [.. Enumerable.Repeat(503, WebhookRunnerFixture.Tries)]);
        var job = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(owner, job);

        var log = await DeliveriesAsync(owner, subscription, items => items.Count == 1 && (string?)items[0]!["state"] == "failed");
        Assert.Equal(WebhookRunnerFixture.Tries, (int)log[0]!["attempts"]!);
        Assert.Equal(503, (int)log[0]!["responseCode"]!);
        Assert.Equal(WebhookRunnerFixture.Tries, (await _receiver.ReceivedAsync("failing")).Count);

        var disabled = await GetAsync(owner, $"/api/webhooks/{subscription}", s => (bool)s["disabled"]!);
        Assert.Contains("503", (string?)disabled["disabledReason"], StringComparison.Ordinal);
        using var retry = await owner.PostAsync($"/api/webhooks/{subscription}/deliveries/{(string)log[0]!["id"]!}/retry", null);
        Assert.Equal(HttpStatusCode.Conflict, retry.StatusCode);
    }

    [Fact]
    public async Task AManualRetryThatFails_IsOneExtraTry_AndNeverDisablesTheSubscription()
    {
        using var owner = runner.Client(NewUser("manual"));
        // Delivered at the schedule's last try; then the manual retry is answered 503.
        var plan = Enumerable.Repeat(500, WebhookRunnerFixture.Tries - 1).Append(200).Append(503).ToArray();
        var (subscription, _) = await SubscribeAsync(owner, "manual", ["job.completed"], plan);
        var job = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(owner, job);
        var log = await DeliveriesAsync(owner, subscription, items => items.Count == 1 && (string?)items[0]!["state"] == "delivered");
        Assert.Equal(WebhookRunnerFixture.Tries, (int)log[0]!["attempts"]!);

        using (var retry = await owner.PostAsync($"/api/webhooks/{subscription}/deliveries/{(string)log[0]!["id"]!}/retry", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        }

        log = await DeliveriesAsync(owner, subscription, items => (string?)items[0]!["state"] == "failed");
        Assert.Equal(WebhookRunnerFixture.Tries + 1, (int)log[0]!["attempts"]!);
        Assert.Equal(503, (int)log[0]!["responseCode"]!);
        Assert.Null(log[0]!["nextTryAt"]); // no schedule after a manual try
        var stored = JsonNode.Parse(await owner.GetStringAsync($"/api/webhooks/{subscription}"))!;
        Assert.False((bool)stored["disabled"]!, stored.ToJsonString());
        Assert.Equal(WebhookRunnerFixture.Tries + 1, (await _receiver.ReceivedAsync("manual")).Count);
    }

    [Fact]
    public async Task DeletingAJob_RemovesItsDeliveries_WhichCarryItsStatus()
    {
        using var owner = runner.Client(NewUser("deleted"));
        var (subscription, _) = await SubscribeAsync(owner, "deleted", ["job.completed"]);
        var job = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(owner, job);
        await DeliveriesAsync(owner, subscription, items => items.Any(d => (string?)d!["jobId"] == job && (string?)d["state"] == "delivered"));
        await Conditions.WaitUntilAsync(async () =>
        {
            using var response = await owner.GetAsync($"/api/jobs/{job}/instance");
            return (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())?["runtimeStatus"] == "Completed";
        }, $"job {job}'s orchestration to end");

        using var bulk = await owner.PostAsJsonAsync("/api/jobs/bulk", new { action = "delete", ids = new[] { job } });
        Assert.Equal(HttpStatusCode.Accepted, bulk.StatusCode);
        var bulkId = (string)JsonNode.Parse(await bulk.Content.ReadAsStringAsync())!["id"]!;
        await RunnerFixture.WaitForEndAsync(owner, bulkId);
        using (var gone = await owner.GetAsync($"/api/jobs/{job}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        var log = await DeliveriesAsync(owner, subscription, _ => true);
        Assert.DoesNotContain(log, d => (string?)d!["jobId"] == job);
    }

    [Fact]
    public async Task ASubscription_GetsOnlyItsOwnersJobs_AndAnAdminsAllJobsSubscription_GetsEveryOwners()
    {
        using var alice = runner.Client(NewUser("alice"));
        using var bob = runner.Client(NewUser("bob"));
        using var admin = runner.Client(NewUser("admin"), "admin");
        var (alices, _) = await SubscribeAsync(alice, "alice", ["job.completed"]);
        var (admins, _) = await SubscribeAsync(admin, "admin", ["job.completed"], allJobs: true);
        try
        {
            var job = (string)(await RunnerFixture.CreateJobAsync(bob, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
            await RunnerFixture.WaitForEndAsync(bob, job);

            var seen = await WaitForAsync("admin", r => r.Any(d => d.Id!.StartsWith(job, StringComparison.Ordinal)));
            Assert.All(seen, r => Assert.True(r.Verified, r.Error));
            // Every delivery an event owes is recorded before any is tried: Alice's log would have Bob's job by now.
            Assert.Empty(await DeliveriesAsync(alice, alices, _ => true));
            Assert.Empty(await _receiver.ReceivedAsync("alice"));
        }
        finally
        {
            using var deleted = await admin.DeleteAsync($"/api/webhooks/{admins}");
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        using var gone = await admin.GetAsync($"/api/webhooks/{admins}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        // Bob cannot see Alice's subscription.
        using var hidden = await bob.GetAsync($"/api/webhooks/{alices}");
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
    }

    [Fact]
    public async Task AnEventDelivered_CostsOneStorageRequestPerSubscription_AndTheSubscriptionsAreReadFromCache()
    {
        using var owner = runner.Client(NewUser("cost"));
        var (first, _) = await SubscribeAsync(owner, "cost-a", ["job.completed"]);
        var (second, _) = await SubscribeAsync(owner, "cost-b", ["job.completed"]);
        var warmUp = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(owner, warmUp);
        // The warm-up's delivery rows are written once the receiver has answered, after it has counted the delivery: wait
        // for the rows themselves, or one written late would be counted below as the measured job's.
        await DeliveriesAsync(owner, first, items => items.Any(d => (string?)d!["jobId"] == warmUp && (string?)d["state"] == "delivered"));
        await DeliveriesAsync(owner, second, items => items.Any(d => (string?)d!["jobId"] == warmUp && (string?)d["state"] == "delivered"));

        var deliveryRows = runner.Requests.Watch(r => r.Path.Contains("whd-", StringComparison.Ordinal) || r.BodyHas("whd-"));
        var subscriptionReads = runner.Requests.Watch(r => r.Method == "GET" && r.Query.Contains("'webhooks'", StringComparison.Ordinal));
        var job = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(owner, job);
        await DeliveriesAsync(owner, first, items => items.Any(d => (string?)d!["jobId"] == job && (string?)d["state"] == "delivered"));
        await DeliveriesAsync(owner, second, items => items.Any(d => (string?)d!["jobId"] == job && (string?)d["state"] == "delivered"));
        runner.Requests.Clear();

        // Per subscription one write: the first try is made before the change settles (the unsettled change is what
        // makes delivery survive a crash), and its outcome is the delivery row. The started event, which nobody wants,
        // costs nothing.
        Assert.True(deliveryRows.Count == 2, string.Join("\n", deliveryRows));
        Assert.Empty(subscriptionReads);
    }

    [Fact]
    public async Task ProgressEvents_AreSentOnlyWhenAsked_AtMostOnePerJobPerInterval_WithStableIds()
    {
        using var owner = runner.Client(NewUser("progress"));
        var (subscription, _) = await SubscribeAsync(owner, "progress", ["job.progress", "job.completed"]);
        await SubscribeAsync(owner, "no-progress", ["job.completed"]);
        // Two steps of 2 s, each reporting its progress every 500 ms: more reports than the 1 s throttle lets through.
        var job = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 2, delayMs = 2000 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(owner, job);
        var received = await WaitForAsync("progress", r => r.Any(d => d.Body.Contains("jobs.job.completed", StringComparison.Ordinal)));
        await WaitForAsync("no-progress", r => r.Count == 1);

        Assert.All(received, r => Assert.True(r.Verified, r.Error));
        var progress = received.Select(r => (Delivery: r, Event: JsonNode.Parse(r.Body)!))
            .Where(e => (string?)e.Event["type"] == "jobs.job.progress").ToList();
        Assert.True(progress.Count >= 2, $"{progress.Count} progress event(s) for a 4 s job");
        // Each event's id names the job and its window, and is the webhook-id; one per window.
        Assert.All(progress, e => Assert.StartsWith(job + "-p", (string)e.Event["id"]!, StringComparison.Ordinal));
        Assert.All(progress, e => Assert.Equal((string)e.Event["id"]!, e.Delivery.Id));
        Assert.Equal(progress.Count, progress.Select(e => e.Delivery.Id).Distinct().Count());
        // Throttled: the events' own times are at least the interval apart.
        var times = progress.Select(e => DateTimeOffset.Parse((string)e.Event["time"]!, System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.True(pair.Second - pair.First >= TimeSpan.FromSeconds(1), $"{pair.First:O} then {pair.Second:O}"));
        Assert.All(progress, e => Assert.Equal("running", (string?)e.Event["data"]!["status"]));
        // The subscription that did not ask for progress got the ending only.
        Assert.DoesNotContain(await _receiver.ReceivedAsync("no-progress"), r => r.Body.Contains("jobs.job.progress", StringComparison.Ordinal));

        var log = await DeliveriesAsync(owner, subscription, items => items.Count(d => (string?)d!["event"] == "job.progress" && (string?)d["state"] == "delivered") == progress.Count);
        Assert.All(log.Where(d => (string?)d!["event"] == "job.progress"), d => Assert.StartsWith(job + "-p", (string)d!["eventId"]!, StringComparison.Ordinal));
    }

    private static string NewUser(string what) => $"wh-{what}-{Guid.NewGuid().ToString("N")[..8]}";

    private async Task<(string Id, string Secret)> SubscribeAsync(HttpClient client, string hook, string[] events, params int[] plan) =>
        await SubscribeAsync(client, hook, events, false, plan);

    private async Task<(string Id, string Secret)> SubscribeAsync(HttpClient client, string hook, string[] events, bool allJobs, params int[] plan)
    {
        using var response = await client.PostAsJsonAsync("/api/webhooks", new { url = _receiver.UrlOf(hook), events, allJobs });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        var created = JsonNode.Parse(text)!;
        var secret = (string)created["secret"]!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        await _receiver.ConfigureAsync(hook, secret, plan);
        return ((string)created["id"]!, secret);
    }

    private Task<IReadOnlyList<WebhookReceiver.Delivery>> WaitForAsync(string hook, Func<IReadOnlyList<WebhookReceiver.Delivery>, bool> until) =>
        WaitForAsync(() => _receiver.ReceivedAsync(hook), until, $"the receiver's {hook} hook never got the deliveries expected");

    private static async Task<JsonArray> DeliveriesAsync(HttpClient client, string subscription, Func<JsonArray, bool> until)
    {
        JsonArray? last = null;
        await Conditions.WaitUntilAsync(async () =>
        {
            last = JsonNode.Parse(await client.GetStringAsync($"/api/webhooks/{subscription}/deliveries"))!["items"]!.AsArray();
            return until(last);
        }, $"the delivery log of {subscription} never showed what was expected; last: {last?.ToJsonString()}");
        return last!;
    }

    private static async Task<JsonNode> GetAsync(HttpClient client, string path, Func<JsonNode, bool> until)
    {
        JsonNode? last = null;
        await Conditions.WaitUntilAsync(async () =>
        {
            last = JsonNode.Parse(await client.GetStringAsync(path))!;
            return until(last);
        }, $"{path} never showed what was expected; last: {last?.ToJsonString()}");
        return last!;
    }

    private static async Task<IReadOnlyList<T>> WaitForAsync<T>(Func<Task<IReadOnlyList<T>>> read, Func<IReadOnlyList<T>, bool> until, string what)
    {
        IReadOnlyList<T> last = [];
        await Conditions.WaitUntilAsync(async () =>
        {
            last = await read();
            return until(last);
        }, what);
        return last;
    }
}
