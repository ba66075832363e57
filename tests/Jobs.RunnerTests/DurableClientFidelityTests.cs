using DurableTask.Core.Exceptions;
using Grpc.Core;
using Jobs.Functions.Orchestration;
using Jobs.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.RunnerTests;

/// <summary>
/// The runner's <see cref="DurableTaskClient"/> fails as the isolated worker's does under the Functions host. Sources,
/// read from the packages the app's build resolves (Microsoft.Azure.WebJobs.Extensions.DurableTask 3.18.0, the version
/// Worker.Extensions.DurableTask 1.21.1 names; Microsoft.DurableTask.Client.Grpc 1.28.0):
/// TaskHubGrpcServer.InvokeControlPlaneOperationAsync maps DurableClient's ArgumentException (unknown instance) to
/// <see cref="StatusCode.NotFound"/> and its InvalidOperationException (state refuses it) to
/// <see cref="StatusCode.FailedPrecondition"/>, with the exception's name before its text; TaskHubGrpcServer.RaiseEvent
/// does the same (Azure Storage checks the status before raising) with its own texts; StartInstance dedupes on the
/// live statuses and answers AlreadyExists, which GrpcDurableTaskClient.ScheduleNewOrchestrationInstanceAsync throws as
/// <see cref="OrchestrationAlreadyExistsException"/>; PurgeInstances refuses a live instance (FailedPrecondition), which
/// GrpcDurableTaskClient.PurgeInstanceAsync throws as <see cref="InvalidOperationException"/>. Terminate, raise event,
/// suspend and resume are not translated by GrpcDurableTaskClient: the caller sees the <see cref="RpcException"/>.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class DurableClientFidelityTests(RunnerFixture runner)
{
    private readonly HttpClient _owner = runner.Client("client-" + Guid.NewGuid().ToString("N")[..8]);

    private DurableTaskClient Durable => runner.Services.GetRequiredService<Jobs.LocalRunner.Durable.DurableEngine>().Client;

    [Fact]
    public async Task ControlOperations_OnAnUnknownInstance_ThrowRpcNotFound()
    {
        var id = Guid.NewGuid().ToString("N");

        var terminate = await Assert.ThrowsAsync<RpcException>(() => Durable.TerminateInstanceAsync(id, "x"));
        var suspend = await Assert.ThrowsAsync<RpcException>(() => Durable.SuspendInstanceAsync(id, "x"));
        var resume = await Assert.ThrowsAsync<RpcException>(() => Durable.ResumeInstanceAsync(id, "x"));
        var raise = await Assert.ThrowsAsync<RpcException>(() => Durable.RaiseEventAsync(id, "poke", new { a = 1 }));

        foreach (var thrown in new[] { terminate, suspend, resume })
        {
            Assert.Equal(StatusCode.NotFound, thrown.StatusCode);
            Assert.Equal($"ArgumentException: No instance with ID '{id}' was found. (Parameter 'instanceId')", thrown.Status.Detail);
        }
        Assert.Equal(StatusCode.NotFound, raise.StatusCode);
        Assert.Equal($"No instance with ID '{id}' was found. (Parameter 'instanceId')", raise.Status.Detail);
        Assert.Equal(0, (await Durable.PurgeInstanceAsync(id)).PurgedInstanceCount);
    }

    [Fact]
    public async Task ControlOperations_OnACompletedInstance_ThrowRpcFailedPrecondition()
    {
        var id = await CompletedJobAsync();

        var terminate = await Assert.ThrowsAsync<RpcException>(() => Durable.TerminateInstanceAsync(id, "late"));
        var suspend = await Assert.ThrowsAsync<RpcException>(() => Durable.SuspendInstanceAsync(id, "late"));
        var resume = await Assert.ThrowsAsync<RpcException>(() => Durable.ResumeInstanceAsync(id, "late"));
        var raise = await Assert.ThrowsAsync<RpcException>(() => Durable.RaiseEventAsync(id, "poke"));

        Assert.All(new[] { terminate, suspend, resume, raise }, e => Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode));
        Assert.Equal($"InvalidOperationException: Cannot terminate the orchestration instance {id} because instance is in the Completed state.", terminate.Status.Detail);
        Assert.Equal($"InvalidOperationException: Cannot suspend the orchestration instance {id} because instance is in the Completed state.", suspend.Status.Detail);
        Assert.Equal($"InvalidOperationException: Cannot resume the orchestration instance {id} because instance is in the Completed state.", resume.Status.Detail);
        Assert.Equal("The orchestration instance with the provided instance id is not running.", raise.Status.Detail);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await Durable.GetInstanceAsync(id))!.RuntimeStatus);
    }

    [Fact]
    public async Task SuspendAndResume_AreRefusedOutOfTurn_AndWorkInTurn()
    {
        var id = await RunningJobAsync(steps: 3, delayMs: 1500);

        var resumeRunning = await Assert.ThrowsAsync<RpcException>(() => Durable.ResumeInstanceAsync(id, "not suspended"));
        Assert.Equal(StatusCode.FailedPrecondition, resumeRunning.StatusCode);
        Assert.Contains("because instance is in the Running state", resumeRunning.Status.Detail, StringComparison.Ordinal);

        await Durable.SuspendInstanceAsync(id, "hold");
        await WaitForStatusAsync(id, OrchestrationRuntimeStatus.Suspended);
        var suspendTwice = await Assert.ThrowsAsync<RpcException>(() => Durable.SuspendInstanceAsync(id, "again"));
        Assert.Equal(StatusCode.FailedPrecondition, suspendTwice.StatusCode);
        Assert.Contains("because instance is in the Suspended state", suspendTwice.Status.Detail, StringComparison.Ordinal);

        await Durable.ResumeInstanceAsync(id, "go");
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(_owner, id))["status"]);
    }

    [Fact]
    public async Task ScheduleNew_WithTheIdOfALiveInstance_IsRefused_AndLeavesItAlone()
    {
        var id = await RunningJobAsync(steps: 2, delayMs: 1500);
        var before = (await Durable.GetInstanceAsync(id))!;

        var refused = await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() =>
            Durable.ScheduleNewOrchestrationInstanceAsync(nameof(JobOrchestrator), new { }, new StartOrchestrationOptions(id)));
        Assert.Equal($"An Orchestration instance with the ID {id} already exists.", refused.Message);

        Assert.Equal(before.CreatedAt, (await Durable.GetInstanceAsync(id))!.CreatedAt);
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(_owner, id))["status"]);
    }

    [Fact]
    public async Task Purge_OfALiveInstance_IsRefused_OfAnEndedOneDeletesIt()
    {
        var id = await RunningJobAsync(steps: 2, delayMs: 1000);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Durable.PurgeInstanceAsync(id));
        Assert.StartsWith($"Only orchestrations in a terminal state can be purged, but the orchestration with instance ID {id} has status ", refused.Message, StringComparison.Ordinal);

        await RunnerFixture.WaitForEndAsync(_owner, id);
        await WaitForStatusAsync(id, OrchestrationRuntimeStatus.Completed);
        Assert.Equal(1, (await Durable.PurgeInstanceAsync(id)).PurgedInstanceCount);
        Assert.Null(await Durable.GetInstanceAsync(id));
    }

    /// <summary>
    /// A status read without inputs carries no output, custom status or failure details, but does carry tags: 3.18.0
    /// TaskHubGrpcServer.CreateGetInstanceResponse sets Input, Output, CustomStatus and FailureDetails only when
    /// GetInputsAndOutputs is asked and copies the state's Tags always; GrpcDurableTaskClient.CreateMetadata (1.28.0)
    /// reads them as sent.
    /// </summary>
    [Fact]
    public async Task GetInstance_WithoutInputs_HasNoOutputStatusOrFailure_ButHasTags()
    {
        var id = await CompletedJobAsync();
        var bare = (await Durable.GetInstanceAsync(id, getInputsAndOutputs: false))!;
        var full = (await Durable.GetInstanceAsync(id, getInputsAndOutputs: true))!;

        Assert.Null(bare.SerializedInput);
        Assert.Null(bare.SerializedOutput);
        Assert.Null(bare.SerializedCustomStatus);
        Assert.NotNull(full.SerializedInput);
        Assert.NotNull(full.SerializedOutput);
        Assert.NotNull(full.SerializedCustomStatus);

        var tagged = Guid.NewGuid().ToString("N");
        await Durable.ScheduleNewOrchestrationInstanceAsync(nameof(JobOrchestrator), null, new StartOrchestrationOptions(tagged, DateTimeOffset.UtcNow.AddDays(1))
        {
            Tags = new Dictionary<string, string> { ["owner"] = "fidelity" },
        });
        try
        {
            Assert.Equal("fidelity", (await Durable.GetInstanceAsync(tagged, getInputsAndOutputs: false))!.Tags["owner"]);
        }
        finally
        {
            await Durable.TerminateInstanceAsync(tagged, "done");
        }
    }

    /// <summary>
    /// A query without inputs still returns each instance's output and custom status, not its input: 3.18.0
    /// ProtobufUtils.CreateQueryInstancesResponse copies Output and CustomStatus whatever was asked (the Azure Storage
    /// backend reads the output either way) and FailureDetails only with FetchInputsAndOutputs; it sends no tags.
    /// </summary>
    [Fact]
    public async Task Query_WithoutInputs_KeepsOutputAndCustomStatus()
    {
        var id = await CompletedJobAsync();
        var found = new List<OrchestrationMetadata>();
        await foreach (var metadata in Durable.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = id, FetchInputsAndOutputs = false }))
        {
            found.Add(metadata);
        }

        var only = Assert.Single(found);
        Assert.Null(only.SerializedInput);
        Assert.NotNull(only.SerializedOutput);
        Assert.NotNull(only.SerializedCustomStatus);
    }

    /// <summary>
    /// History comes over gRPC: DurableTask.Client.Grpc 1.28.0 GrpcDurableTaskClient.GetOrchestrationHistoryAsync turns
    /// the NotFound of 3.18.0 TaskHubGrpcServer.StreamInstanceHistory into ArgumentException "An orchestration with the
    /// instanceId … was not found.", and ProtoUtils.ConvertHistoryEvent builds a failed task from its failure details
    /// alone (reason and details null).
    /// </summary>
    [Fact]
    public async Task History_IsWhatComesOverGrpc_UnknownThrows_FailedTaskHasOnlyFailureDetails()
    {
        var unknown = Guid.NewGuid().ToString("N");
        var thrown = await Assert.ThrowsAsync<ArgumentException>(() => Durable.GetOrchestrationHistoryAsync(unknown));
        Assert.Equal($"An orchestration with the instanceId {unknown} was not found.", thrown.Message);

        var id = (string)(await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 1, failAtStep = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(_owner, id);
        await Durable.WaitForInstanceCompletionAsync(id);
        var failures = (await Durable.GetOrchestrationHistoryAsync(id)).OfType<DurableTask.Core.History.TaskFailedEvent>().ToList();

        Assert.NotEmpty(failures);
        Assert.All(failures, f =>
        {
            Assert.Null(f.Reason);
            Assert.Null(f.Details);
            Assert.NotNull(f.FailureDetails);
        });
    }

    private async Task<string> CompletedJobAsync()
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(_owner, id);
        await WaitForStatusAsync(id, OrchestrationRuntimeStatus.Completed);
        return id;
    }

    private async Task<string> RunningJobAsync(int steps, int delayMs)
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(_owner, new { type = "demo.steps", input = new { steps, delayMs } }))["id"]!;
        await WaitForStatusAsync(id, OrchestrationRuntimeStatus.Running);
        return id;
    }

    private async Task WaitForStatusAsync(string id, OrchestrationRuntimeStatus status)
    {
        for (var i = 0; i < 300; i++)
        {
            if ((await Durable.GetInstanceAsync(id))?.RuntimeStatus == status)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Instance {id} never reached {status}.");
    }
}
