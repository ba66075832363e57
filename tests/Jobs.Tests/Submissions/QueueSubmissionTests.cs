using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Jobs.Functions.Storage;
using Jobs.Tests.Infrastructure;

namespace Jobs.Tests.Submissions;

/// <summary>The job-submissions queue, served by the runner with the Functions host's retry and poison rules.</summary>
[Collection(QueueRunnerCollection.Name)]
public sealed class QueueSubmissionTests(QueueRunnerFixture runner)
{
    private readonly QueueServiceClient _queues = new(TestStorage.ConnectionString);

    private Task SendAsync(string text) =>
        _queues.GetQueueClient(QueueNames.Submissions).SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(text)));

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
        await SendAsync(notJson);
        await SendAsync(noOwner);
        await SendAsync(unknownType);
        await SendAsync(badInput);
        // Not base64 at all: the host cannot even decode it.
        var raw = $"%%{marker}%%";
        await new QueueClient(TestStorage.ConnectionString, QueueNames.Submissions).SendMessageAsync(raw);
        await SendAsync(JsonSerializer.Serialize(new { type = "demo.steps", owner, correlationId = "good", input = new { steps = 1 } }));

        var good = Assert.Single(await JobsOfAsync(owner, TimeSpan.FromSeconds(30)));
        using var client = runner.Client(owner);
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(client, (string)good!["id"]!))["status"]);

        var poison = _queues.GetQueueClient(QueueNames.SubmissionsPoison);
        var expected = new[] { notJson, noOwner, unknownType, badInput, raw };
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
