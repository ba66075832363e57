using System.Net;
using System.Net.Http.Json;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Audit;

/// <summary>An event raised through the job's <c>sendEventPostUri</c> is one entry naming the event; a refused raise is none.</summary>
[Collection(StaleStatusRunnerCollection.Name)]
public sealed class AuditEventTests(StaleStatusRunnerFixture runner)
{
    private readonly string _owner = "aude-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task RaiseEvent_ThroughTheJobsLink_IsOneEntryNamingTheEvent_AndARefusedOneIsNone()
    {
        using var client = runner.Client(_owner);
        var created = await RunnerFixture.CreateJobAsync(client, new { type = EventfulHandler.TypeName, input = new { holdMs = 600_000 } });
        var id = (string)created["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "running");
        var uri = (string)created["sendEventPostUri"]!;

        using (var raised = await client.PostAsJsonAsync(uri.Replace("{eventName}", EventfulHandler.EventName, StringComparison.Ordinal), new { approve = true }))
        {
            Assert.Equal(HttpStatusCode.Accepted, raised.StatusCode);
        }
        using (var unknown = await client.PostAsJsonAsync(uri.Replace("{eventName}", "not-declared", StringComparison.Ordinal), new { approve = true }))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        var entries = await AuditTrail.EntriesAsync(client, id);
        Assert.Equal(["created", "event_raised"], entries.Select(e => (string)e["action"]!));
        AuditTrail.ByUser(entries[1], _owner);
        Assert.Equal(EventfulHandler.EventName, (string?)entries[1]["details"]!["eventName"]);
    }
}
