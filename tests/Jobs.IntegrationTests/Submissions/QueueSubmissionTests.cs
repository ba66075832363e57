using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Jobs.Functions.Storage;
using Jobs.Functions.Submissions;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Jobs.LocalRunner.Triggers;
using Jobs.Testing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Submissions;

/// <summary>The job-submissions queue, served by the runner with the Functions host's retry and poison rules.</summary>
[Collection(QueueRunnerCollection.Name)]
public sealed class QueueSubmissionTests(QueueRunnerFixture runner)
{
    private readonly QueueServiceClient _queues = new(TestStorage.ConnectionString);

    /// <summary>Sends a message to job-submissions; returns its message id.</summary>
    private async Task<string> SendAsync(string text) =>
        (await _queues.GetQueueClient(QueueNames.Submissions).SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(text)))).Value.MessageId;

    private async Task<string?> IdempotencyKeyOfAsync(string owner, string jobId) => (string?)(await RecordOfAsync(owner, jobId))["idempotencyKey"];

    /// <summary>
    /// A listed job, read whole once its record is there: a creation writes its list rows first and its record next, so a
    /// job the listing shows can be unknown to <c>GET /api/jobs/{id}</c> for a moment (bounded wait).
    /// </summary>
    private async Task<JsonNode> RecordOfAsync(string owner, string jobId)
    {
        using var client = runner.Client(owner);
        JsonNode? record = null;
        await Conditions.WaitUntilAsync(async () =>
        {
            using var response = await client.GetAsync($"/api/jobs/{jobId}");
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return false;
            }
            record = JsonNode.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
            return true;
        }, $"the listed job {jobId} has its record");
        return record!;
    }

    private async Task<JsonArray> JobsOfAsync(string owner, TimeSpan timeout, int atLeast = 1)
    {
        using var client = runner.Client(owner);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var jobs = JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!["jobs"]!.AsArray();
            if (jobs.Count >= atLeast || DateTime.UtcNow > deadline)
            {
                return jobs;
            }
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task QueueMessage_CreatesTheSameJobAsHttp_ForItsOwner()
    {
        var owner = "svc-" + Guid.NewGuid().ToString("N")[..8];
        await SendAsync(JsonSerializer.Serialize(new { type = "demo.steps", owner, correlationId = "from-queue", input = new { steps = 2 } }));

        var jobs = await JobsOfAsync(owner, TimeSpan.FromSeconds(30));
        var id = (string)Assert.Single(jobs)!["id"]!;
        await RecordOfAsync(owner, id);
        using var client = runner.Client(owner);
        var status = await RunnerFixture.WaitForEndAsync(client, id);
        Assert.Equal("completed", (string?)status["status"]);
        var job = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal(owner, (string?)job["owner"]);
        Assert.Equal("from-queue", (string?)job["correlationId"]);
    }

    [Fact]
    public async Task RepeatedIdempotencyKey_OnTheQueue_CreatesOneJob()
    {
        var owner = "svc-" + Guid.NewGuid().ToString("N")[..8];
        var message = JsonSerializer.Serialize(new { type = "demo.steps", owner, idempotencyKey = "order-7", input = new { steps = 1 } });
        await SendAsync(message);
        await SendAsync(message);
        var marker = "after-" + Guid.NewGuid().ToString("N")[..6];
        await SendAsync(JsonSerializer.Serialize(new { type = "demo.steps", owner, correlationId = marker, input = new { steps = 1 } }));

        var jobs = await JobsOfAsync(owner, TimeSpan.FromSeconds(30), atLeast: 2);
        await Task.Delay(1000);
        jobs = await JobsOfAsync(owner, TimeSpan.Zero);
        Assert.Equal(2, jobs.Count);
        Assert.Single(jobs, j => (string?)j!["correlationId"] == marker);
        // The message's own key, not one made from either message's id.
        var keyed = jobs.Single(j => (string?)j!["correlationId"] != marker)!;
        Assert.Equal("order-7", await IdempotencyKeyOfAsync(owner, (string)keyed["id"]!));
    }

    [Fact]
    public async Task QueueSubmissions_WithTheSameBodyAndNoKey_AreTwoJobs_EachKeyedByItsMessageId()
    {
        var owner = "svc-" + Guid.NewGuid().ToString("N")[..8];
        var message = JsonSerializer.Serialize(new { type = "demo.steps", owner, input = new { steps = 1 } });
        var first = await SendAsync(message);
        var second = await SendAsync(message);

        var jobs = await JobsOfAsync(owner, TimeSpan.FromSeconds(30), atLeast: 2);
        Assert.Equal(2, jobs.Count);
        var keys = new List<string?>();
        foreach (var job in jobs)
        {
            keys.Add(await IdempotencyKeyOfAsync(owner, (string)job!["id"]!));
        }
        Assert.Equal(new[] { "queue:" + first, "queue:" + second }.Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// A message whose job was created but that was never deleted (the process was killed mid-batch) is delivered again
    /// after its lease, with the same id. Here the runner's queue listener serves the real function with the app's
    /// services on a queue of the test's own, and the first delete fails, so the message runs twice: one job.
    /// </summary>
    [Fact]
    public async Task QueueSubmission_DeliveredTwice_IsOneJob()
    {
        var queueName = "subm-" + Guid.NewGuid().ToString("N")[..12];
        var owner = "svc-" + Guid.NewGuid().ToString("N")[..8];
        var faults = new StorageFaults();
        bool IsDelete(StorageRequest r) => r.Method == "DELETE" && r.Path.Contains($"/{queueName}/messages/", StringComparison.Ordinal);
        var deletes = faults.Watch(IsDelete);
        faults.FailNth(IsDelete, 1, FaultTiming.BeforeApplied);
        // As the runner's own client (raw text, the listener decodes base64), with no retries, so the fault reaches the listener.
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
        options.Retry.MaxRetries = 0;
        options.AddPolicy(faults, Azure.Core.HttpPipelinePosition.PerRetry);
        var method = typeof(SubmissionQueueFunction).GetMethod(nameof(SubmissionQueueFunction.SubmitFromQueue))!;
        var function = new FunctionDescriptor(nameof(SubmissionQueueFunction.SubmitFromQueue), method, TriggerKind.Queue, PrivateSubmissionQueue.TriggerParameter);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [PrivateSubmissionQueue.Setting] = queueName }).Build();
        // A 2 s lease, so the message is back soon after the failed delete.
        var host = new HostSettings { QueueMessageLease = TimeSpan.FromSeconds(2), QueueMaxPollingInterval = TimeSpan.FromMilliseconds(200) };
        var queue = new QueueClient(TestStorage.ConnectionString, queueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();
        using var listener = new QueueTriggerListener(function, new QueueServiceClient(TestStorage.ConnectionString, options), host, configuration,
            runner.Services.GetRequiredService<DurableTaskClient>(), TimeProvider.System, runner.Services, new CapturingLogger<QueueTriggerListener>());
        try
        {
            await listener.StartAsync(CancellationToken.None);
            var sent = (await queue.SendMessageAsync(JsonSerializer.Serialize(new { type = "demo.steps", owner, input = new { steps = 1 } }))).Value;

            // The first run's delete fails; the second run's delete is the one that follows its second run.
            await ListenerParts.WaitUntilAsync(() => deletes.Count >= 2, TimeSpan.FromSeconds(30), "the message is delivered again and run");

            Assert.Equal(1, faults.Injected);
            var job = Assert.Single(await JobsOfAsync(owner, TimeSpan.Zero));
            Assert.Equal("queue:" + sent.MessageId, await IdempotencyKeyOfAsync(owner, (string)job!["id"]!));
        }
        finally
        {
            await listener.StopAsync(CancellationToken.None);
            await queue.DeleteIfExistsAsync();
            await new QueueClient(TestStorage.ConnectionString, queueName + "-poison").DeleteIfExistsAsync();
        }
    }

    [Fact]
    public async Task BadMessages_EndInThePoisonQueue_AndGoodOnesKeepFlowing()
    {
        var marker = Guid.NewGuid().ToString("N");
        var owner = "svc-" + marker[..8];
        var notJson = $"not json {marker}";
        var noOwner = JsonSerializer.Serialize(new { type = "demo.steps", correlationId = marker });
        var unknownType = JsonSerializer.Serialize(new { type = "no.such.type", owner, correlationId = marker });
        var badInput = JsonSerializer.Serialize(new { type = "demo.steps", owner, correlationId = marker, input = new { steps = 500 } });
        // Keys made from message ids are the service's; a client's key may not look like one.
        var reservedKey = JsonSerializer.Serialize(new { type = "demo.steps", owner, correlationId = marker, idempotencyKey = "queue:" + marker });
        await SendAsync(notJson);
        await SendAsync(noOwner);
        await SendAsync(unknownType);
        await SendAsync(badInput);
        await SendAsync(reservedKey);
        // Not base64 at all: the host cannot even decode it.
        var raw = $"%%{marker}%%";
        await new QueueClient(TestStorage.ConnectionString, QueueNames.Submissions).SendMessageAsync(raw);
        await SendAsync(JsonSerializer.Serialize(new { type = "demo.steps", owner, correlationId = "good", input = new { steps = 1 } }));

        var good = Assert.Single(await JobsOfAsync(owner, TimeSpan.FromSeconds(30)));
        await RecordOfAsync(owner, (string)good!["id"]!);
        using var client = runner.Client(owner);
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(client, (string)good!["id"]!))["status"]);

        var poison = _queues.GetQueueClient(QueueNames.SubmissionsPoison);
        var expected = new[] { notJson, noOwner, unknownType, badInput, reservedKey, raw };
        var found = new HashSet<string>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (found.Count < expected.Length && DateTime.UtcNow < deadline)
        {
            foreach (var message in (await poison.PeekMessagesAsync(32)).Value)
            {
                var text = message.Body.ToString();
                var decoded = TryDecode(text);
                foreach (var candidate in expected.Where(e => e == text || e == decoded))
                {
                    found.Add(candidate);
                }
            }
            await Task.Delay(250);
        }
        Assert.Equal(expected.Order(), found.Order());
        // Only the good message became a job.
        Assert.Single(await JobsOfAsync(owner, TimeSpan.Zero));
    }

    private static string? TryDecode(string text)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// Lends the real submission function a trigger on a queue named by an app setting, so a test can serve it from a
/// queue of its own: the shared job-submissions queue belongs to the queue runner fixture.
/// </summary>
internal static class PrivateSubmissionQueue
{
    public const string Setting = "PrivateSubmissions";

    /// <summary>The trigger parameter to serve from; it is at the same position as the real function's.</summary>
    public static ParameterInfo TriggerParameter { get; } = typeof(PrivateSubmissionQueue).GetMethod(nameof(Trigger))!.GetParameters()[0];

    public static void Trigger([QueueTrigger("%" + Setting + "%")] string message) => _ = message;
}
