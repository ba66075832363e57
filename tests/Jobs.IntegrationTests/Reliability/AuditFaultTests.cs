using System.Net;
using Jobs.IntegrationTests.Audit;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// An audit entry and the change it describes are one transaction: a storage fault on it leaves both or neither —
/// never a cancel nobody is recorded to have asked for, nor an entry for a cancel that did not happen.
/// </summary>
[Collection(FaultRunnerCollection.Name)]
public sealed class AuditFaultTests(FaultRunnerFixture runner) : IDisposable
{
    private readonly string _owner = "audf-" + Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => runner.Faults.Clear();

    [Theory]
    [InlineData(FaultTiming.BeforeApplied)]
    [InlineData(FaultTiming.AfterApplied)]
    public async Task FaultOnACancelsTransaction_LeavesTheCancelAndItsEntry_BothOrNeither_AndARetryMakesExactlyOne(FaultTiming timing)
    {
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1, delayMs = 600_000 } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "running");
        runner.Faults.FailNth(r => r.IsBatch && r.BodyHas(id) && r.BodyHas("\"Action\":\"cancel_requested\""), 1, timing);

        using (var faulted = await client.PostAsync($"/api/jobs/{id}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, faulted.StatusCode);
        }
        var requested = (await runner.Store.GetAsync(id, CancellationToken.None))!.CancelRequested;
        var entries = (await AuditTrail.EntriesAsync(client, id)).Count(e => (string?)e["action"] == "cancel_requested");

        Assert.Equal(timing == FaultTiming.AfterApplied, requested);
        Assert.Equal(requested ? 1 : 0, entries);

        using var retry = await client.PostAsync($"/api/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var cancel = AuditTrail.Single(await AuditTrail.EntriesAsync(client, id), "cancel_requested");
        AuditTrail.ByUser(cancel, _owner);
    }
}
