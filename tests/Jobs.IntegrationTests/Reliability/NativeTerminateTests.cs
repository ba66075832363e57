using System.Net;
using Jobs.Functions.Maintenance;
using Jobs.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// A job terminated through the native Durable API reaches its record on the reconciler's next visit — not after the
/// grace the reconciler gives a job written to recently (60 s by default, as here), and not a period after that.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class NativeTerminateTests(RunnerFixture runner)
{
    [Fact]
    public async Task NativeTerminate_OfAJobWrittenJustNow_IsEndedByTheNextReconcilerVisit_WithoutWaitingForTheGrace()
    {
        using var client = runner.Client("nt-" + Guid.NewGuid().ToString("N")[..8]);
        // One long step: the record was written when it started, seconds ago — well within the 60-second grace.
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1, delayMs = 600_000 } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "running");
        var durable = runner.Services.GetRequiredService<DurableTaskClient>();
        await durable.TerminateInstanceAsync(id, "ops stopped it");
        await Conditions.WaitUntilAsync(async () => (await durable.GetInstanceAsync(id))?.RuntimeStatus == OrchestrationRuntimeStatus.Terminated,
            "the orchestration to be terminated");
        Assert.Equal("running", (string?)(await RunnerFixture.PollStatusAsync(client, id, _ => true))["status"]);

        await runner.Services.GetRequiredService<JobReconciler>().RunAsync(durable, CancellationToken.None);

        var job = (await runner.Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(Jobs.Functions.Model.JobStatus.Cancelled, job.Status);
        Assert.Contains("ops stopped it", job.Message, StringComparison.Ordinal);
        using var result = await client.GetAsync($"/api/jobs/{id}/result");
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
    }
}
