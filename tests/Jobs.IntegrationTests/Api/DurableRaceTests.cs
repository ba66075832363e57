using System.Net;
using System.Net.Http.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Submissions;
using Jobs.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// The app against a durable client that throws as the Functions host's does, in the races where it read an instance
/// just before the instance changed: the read is frozen (<see cref="StaleStatusDurableClient"/>), the operation goes to
/// the real client. Per-job endpoints answer as the native API does for an ended (410) or unknown (404) instance, never
/// 500; a start that loses to another start is "already started".
/// </summary>
[Collection(StaleStatusRunnerCollection.Name)]
public sealed class DurableRaceTests(StaleStatusRunnerFixture runner)
{
    private readonly HttpClient _owner = runner.Client("racer-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task RaiseEvent_OnAnInstanceThatEndedAfterTheRead_Is410()
    {
        var (id, created) = await EndedJobAsync(new { type = EventfulHandler.TypeName, input = new { holdMs = 0 } });
        runner.Durable.Freeze(id, SeenRunning(id));

        using var response = await _owner.PostAsJsonAsync(RaiseUri(created), new { late = true });

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
    }

    [Fact]
    public async Task RaiseEvent_OnAnInstancePurgedAfterTheRead_Is404()
    {
        var (id, created) = await EndedJobAsync(new { type = EventfulHandler.TypeName, input = new { holdMs = 0 } });
        Assert.Equal(1, (await runner.Services.GetRequiredService<Jobs.LocalRunner.Durable.DurableEngine>().Client.PurgeInstanceAsync(id)).PurgedInstanceCount);
        runner.Durable.Freeze(id, SeenRunning(id));

        using var response = await _owner.PostAsJsonAsync(RaiseUri(created), new { late = true });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>
    /// The job's instance with its history, purged between the status read and the history read: the worker's client
    /// throws ArgumentException for a history it cannot find (DurableTask.Client.Grpc 1.28.0
    /// GrpcDurableTaskClient.GetOrchestrationHistoryAsync on the NotFound of the extension 3.18.0's
    /// TaskHubGrpcServer.StreamInstanceHistory), which the endpoint answers as a missing orchestration.
    /// </summary>
    [Fact]
    public async Task InstanceWithHistory_OfAnInstancePurgedAfterTheRead_Is404()
    {
        var (id, _) = await EndedJobAsync(new { type = EventfulHandler.TypeName, input = new { holdMs = 0 } });
        Assert.Equal(1, (await runner.Services.GetRequiredService<Jobs.LocalRunner.Durable.DurableEngine>().Client.PurgeInstanceAsync(id)).PurgedInstanceCount);
        runner.Durable.Freeze(id, SeenRunning(id));

        using var response = await _owner.GetAsync($"/api/jobs/{id}/instance?showHistory=true");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>
    /// The native API when the instance is purged between the handler's status check and the operation: DurableClient
    /// throws ArgumentException, which HttpApiHandler.HandleRequestAsync answers 400 "One or more of the arguments
    /// submitted is incorrect" (Azure/azure-functions-durable-extension, src/WebJobs.Extensions.DurableTask/
    /// HttpApiHandler.cs, HandleRequestAsync's catch (ArgumentException)) — not the catch-all 500.
    /// </summary>
    [Fact]
    public async Task NativeTerminateAndRaiseEvent_OnAnInstancePurgedAfterTheRead_Are400()
    {
        var (id, _) = await EndedJobAsync(new { type = EventfulHandler.TypeName, input = new { holdMs = 0 } });
        Assert.Equal(1, (await runner.Services.GetRequiredService<Jobs.LocalRunner.Durable.DurableEngine>().Client.PurgeInstanceAsync(id)).PurgedInstanceCount);
        runner.Durable.Freeze(id, SeenRunning(id));
        using var admin = new HttpClient { BaseAddress = runner.BaseAddress };

        using var terminate = await admin.PostAsync($"/runtime/webhooks/durabletask/instances/{id}/terminate?code={runner.SystemKey}", null);
        using var raise = await admin.PostAsync($"/runtime/webhooks/durabletask/instances/{id}/raiseEvent/poke?code={runner.SystemKey}",
            new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        foreach (var response in new[] { terminate, raise })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("One or more of the arguments submitted is incorrect", (string?)error["Message"]);
            Assert.Equal("System.ArgumentException", (string?)error["ExceptionType"]);
            Assert.StartsWith($"No instance with ID '{id}' was found.", (string?)error["ExceptionMessage"], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Terminate_OfALiveRecordWhoseInstanceEndedAfterTheRead_Is202_AndRecordsItCancelled()
    {
        var (id, created) = await EndedJobAsync();
        // The record still says running (its ending not yet written) while the instance has completed.
        var ended = (await runner.Store.GetAsync(id, default))!;
        var running = ended with { Status = JobStatus.Running, CompletedAt = null, Result = null, Progress = 50, Message = "Running step-1" };
        await runner.Storage.JobsTable.UpdateEntityAsync(Jobs.Functions.Storage.JobEntity.FromJob(running, Jobs.Functions.Storage.JobStamp.Of(ended)!), Jobs.Functions.Storage.JobStamp.Of(ended)!.ETag, Azure.Data.Tables.TableUpdateMode.Replace);
        runner.Durable.Freeze(id, SeenRunning(id));

        using var response = await _owner.PostAsync(((string)created["terminatePostUri"]!).Replace("{text}", "too+late", StringComparison.Ordinal), null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = (await runner.Store.GetAsync(id, default))!;
        Assert.Equal(JobStatus.Cancelled, job.Status);
        Assert.Contains("too late", job.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartIfMissing_WhenAnotherCallerStartedTheInstanceMeanwhile_CountsAsAlreadyStarted()
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 2, delayMs = 1000 } }))["id"]!;
        var engine = runner.Services.GetRequiredService<Jobs.LocalRunner.Durable.DurableEngine>().Client;
        var before = await WaitForInstanceAsync(engine, id);
        runner.Durable.Freeze(id, null); // read before the other caller's start landed
        var job = (await runner.Store.GetAsync(id, default))!;
        var handler = runner.Services.GetRequiredService<JobHandlerRegistry>().Get(job.Type);

        var started = await runner.Services.GetRequiredService<JobSubmissionService>().StartIfMissingAsync(job, handler, runner.Durable, default);

        Assert.False(started);
        Assert.Equal(before.CreatedAt, (await engine.GetInstanceAsync(id))!.CreatedAt);
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(_owner, id))["status"]);
    }

    private async Task<(string Id, System.Text.Json.Nodes.JsonObject Created)> EndedJobAsync(object? body = null)
    {
        var created = await RunnerFixture.CreateJobAsync(_owner, body ?? new { type = "demo.steps", input = new { steps = 1 } });
        var id = (string)created["id"]!;
        await RunnerFixture.WaitForEndAsync(_owner, id);
        await RunnerFixture.WaitForRuntimeStatusAsync(_owner, (string)created["statusQueryGetUri"]!, "Completed");
        return (id, created);
    }

    /// <summary>The event the job's type waits for: any other name is refused before the instance is read.</summary>
    private static string RaiseUri(System.Text.Json.Nodes.JsonObject created) =>
        ((string)created["sendEventPostUri"]!).Replace("{eventName}", EventfulHandler.EventName, StringComparison.Ordinal);

    private static OrchestrationMetadata SeenRunning(string id) =>
        new("JobOrchestrator", id) { RuntimeStatus = OrchestrationRuntimeStatus.Running, CreatedAt = DateTimeOffset.UtcNow, LastUpdatedAt = DateTimeOffset.UtcNow };

    private static async Task<OrchestrationMetadata> WaitForInstanceAsync(DurableTaskClient durable, string id)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await durable.GetInstanceAsync(id) is { } metadata)
            {
                return metadata;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"No instance {id}.");
    }
}
