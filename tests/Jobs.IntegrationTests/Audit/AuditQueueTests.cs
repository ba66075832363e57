using System.Text;
using Azure.Storage.Queues;
using Jobs.Functions.Storage;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Audit;

/// <summary>A job submitted through the job-submissions queue: its creation is the queue's (the message names an owner, not who sent it).</summary>
[Collection(QueueRunnerCollection.Name)]
public sealed class AuditQueueTests(QueueRunnerFixture runner)
{
    [Fact]
    public async Task AQueuedSubmission_IsCreatedByTheQueue_ForTheOwnerItNames()
    {
        var owner = "audq-" + Guid.NewGuid().ToString("N")[..8];
        var message = $$"""{"type":"demo.steps","input":{"steps":1},"owner":"{{owner}}"}""";
        await new QueueServiceClient(TestStorage.ConnectionString).GetQueueClient(QueueNames.Submissions)
            .SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(message)));
        using var client = runner.Client(owner);
        string? id = null;
        // Created: listed, and its record there. A creation writes its list rows before its record, and the audit entry is
        // in the record's transaction, so a job just listed can have no trail yet.
        await Conditions.WaitUntilAsync(async () =>
        {
            var jobs = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!["jobs"]!.AsArray();
            id = jobs.Count > 0 ? (string?)jobs[0]!["id"] : null;
            if (id is null)
            {
                return false;
            }
            using var record = await client.GetAsync($"/api/jobs/{id}");
            return record.StatusCode != System.Net.HttpStatusCode.NotFound;
        }, "the queued job to be created");

        var created = AuditTrail.Single(await AuditTrail.EntriesAsync(client, id!), "created");

        Assert.Equal(("system", "job-submissions queue"), ((string?)created["actor"]!["kind"], (string?)created["actor"]!["id"]));
        await RunnerFixture.WaitForEndAsync(client, id!);
    }
}
