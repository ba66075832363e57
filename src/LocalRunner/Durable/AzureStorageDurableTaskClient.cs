using System.Globalization;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using DurableTask.Core.History;
using Grpc.Core;
using Jobs.LocalRunner.Configuration;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Core = DurableTask.Core;
using PurgeResult = Microsoft.DurableTask.Client.PurgeResult;
using CoreQuery = DurableTask.Core.Query;

namespace Jobs.LocalRunner.Durable;

/// <summary>
/// The <see cref="DurableTaskClient"/> that <c>[DurableClient]</c> parameters receive under the runner: the
/// Durable Task Framework's Azure Storage backend driven directly. It serialises with the same
/// <see cref="DataConverter"/> as the worker shims (System.Text.Json), so inputs round-trip exactly.
/// It fails as the isolated worker's client does under the Functions host (Microsoft.Azure.WebJobs.Extensions.DurableTask
/// 3.18.0, the version Worker.Extensions.DurableTask 1.21.1 loads; its TaskHubGrpcServer and DurableClient, read from
/// the package): terminate, raise event, suspend and resume of an instance that does not exist throw an
/// <see cref="RpcException"/> with <see cref="StatusCode.NotFound"/>, of one whose state refuses the operation
/// <see cref="StatusCode.FailedPrecondition"/> (GrpcDurableTaskClient passes both through); starting an instance id
/// that is still live throws <see cref="OrchestrationAlreadyExistsException"/>; purging a live instance throws
/// <see cref="InvalidOperationException"/>.
/// </summary>
/// <remarks>
/// host.json's <c>overridableExistingInstanceStates</c> and <c>throwStatusExceptionsOnRaiseEvent</c> apply as in the
/// extension (<paramref name="overridable"/>, <paramref name="throwStatusExceptionsOnRaiseEvent"/>).
/// </remarks>
public sealed class AzureStorageDurableTaskClient(
    AzureStorageOrchestrationService service, DataConverter converter, string queryString,
    OverridableStates overridable = OverridableStates.NonRunningStates, bool throwStatusExceptionsOnRaiseEvent = true)
    : DurableTaskClient("local-runner")
{
    /// <summary>
    /// The statuses in which an instance id cannot be started again under NonRunningStates, the extension's default
    /// <c>overridableExistingInstanceStates</c> (OverridableStatesExtensions.ToDedupeStatuses), with
    /// <c>ThrowExceptionOnInvalidDedupeStatus</c> set.
    /// </summary>
    internal static readonly Core.OrchestrationStatus[] LiveStatuses =
    [
        Core.OrchestrationStatus.Running, Core.OrchestrationStatus.ContinuedAsNew, Core.OrchestrationStatus.Pending, Core.OrchestrationStatus.Suspended,
    ];

    // ToDedupeStatuses: AnyState dedupes nothing, so a start replaces even a running instance.
    private readonly Core.OrchestrationStatus[] _dedupeStatuses = overridable == OverridableStates.AnyState ? [] : LiveStatuses;

    /// <summary>What opens the native HTTP API: <c>taskHub=…&amp;connection=…&amp;code=…</c> (the binding's requiredQueryStringParameters).</summary>
    public string QueryString => queryString;

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        var instanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        try
        {
            await StartAsync(orchestratorName.Name, instanceId, converter.Serialize(input), options?.Version?.Version ?? "",
                options?.StartAt?.UtcDateTime, options?.Tags?.ToDictionary(t => t.Key, t => t.Value));
        }
        catch (OrchestrationAlreadyExistsException)
        {
            // The host answers AlreadyExists with this text; GrpcDurableTaskClient turns it into the same exception type.
            throw new OrchestrationAlreadyExistsException($"An Orchestration instance with the ID {instanceId} already exists.");
        }
        return instanceId;
    }

    /// <summary>
    /// Schedules an instance with a raw (already serialised) input, refusing an id that is still live with the backend's
    /// <see cref="OrchestrationAlreadyExistsException"/> — what the native HTTP API's start route reports as 409.
    /// </summary>
    internal Task StartAsync(string name, string instanceId, string? rawInput, string version, DateTime? startAt = null, IDictionary<string, string>? tags = null)
    {
        var instance = new OrchestrationInstance { InstanceId = instanceId, ExecutionId = Guid.NewGuid().ToString("N") };
        var message = new TaskMessage
        {
            OrchestrationInstance = instance,
            Event = new ExecutionStartedEvent(-1, rawInput)
            {
                Name = name,
                Version = version,
                OrchestrationInstance = instance,
                ScheduledStartTime = startAt,
                Tags = tags ?? new Dictionary<string, string>(),
            },
        };
        return service.CreateTaskOrchestrationAsync(message, _dedupeStatuses);
    }

    // As DurableClient.RaiseEventInternalAsync with the Azure Storage provider's CheckStatusBeforeRaiseEvent, and
    // TaskHubGrpcServer.RaiseEvent's mapping (unknown → NotFound with the ArgumentException's text; ended → FailedPrecondition).
    // With throwStatusExceptionsOnRaiseEvent false the status is not read: the event is sent, and dropped by the
    // backend if no running instance takes it.
    public override async Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default)
    {
        if (!throwStatusExceptionsOnRaiseEvent)
        {
            await SendAsync(instanceId, new EventRaisedEvent(-1, converter.Serialize(eventPayload)) { Name = eventName });
            return;
        }
        var state = await GetStateAsync(instanceId)
            ?? throw new RpcException(new Status(StatusCode.NotFound, NoInstance(instanceId)));
        if (!IsRunning(state.OrchestrationStatus))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "The orchestration instance with the provided instance id is not running."));
        }
        await SendAsync(instanceId, new EventRaisedEvent(-1, converter.Serialize(eventPayload)) { Name = eventName });
    }

    // DurableClient.SuspendAsync: only Running, Pending and ContinuedAsNew instances can be suspended.
    public override async Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default)
    {
        var state = await RequireStateAsync(instanceId);
        if (state.OrchestrationStatus is not (Core.OrchestrationStatus.Running or Core.OrchestrationStatus.Pending or Core.OrchestrationStatus.ContinuedAsNew))
        {
            throw Refused("suspend", instanceId, state.OrchestrationStatus);
        }
        await SendAsync(instanceId, new ExecutionSuspendedEvent(-1, reason));
    }

    // DurableClient.ResumeAsync: only a Suspended instance can be resumed.
    public override async Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default)
    {
        var state = await RequireStateAsync(instanceId);
        if (state.OrchestrationStatus != Core.OrchestrationStatus.Suspended)
        {
            throw Refused("resume", instanceId, state.OrchestrationStatus);
        }
        await SendAsync(instanceId, new ExecutionResumedEvent(-1, reason));
    }

    // DurableClient.TerminateAsync: Running, Suspended, Pending and ContinuedAsNew instances can be terminated. Over gRPC
    // the worker sends the output serialised (TaskHubGrpcServer.TerminateInstance passes request.Output on as the reason).
    public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default) =>
        TerminateAsync(instanceId, converter.Serialize(options?.Output));

    /// <summary>
    /// Terminates with <paramref name="reason"/> stored as sent, not serialised: the native HTTP API's terminate, which
    /// HttpApiHandler passes to DurableClient.TerminateAsync and TaskHubClient.TerminateInstanceAsync as the reason text
    /// (so <c>reason=42</c> becomes the output 42, and <c>reason=stop</c> the non-JSON output <c>stop</c>).
    /// </summary>
    internal Task TerminateAsTextAsync(string instanceId, string? reason) => TerminateAsync(instanceId, reason);

    private async Task TerminateAsync(string instanceId, string? output)
    {
        var state = await RequireStateAsync(instanceId);
        if (!IsRunning(state.OrchestrationStatus))
        {
            throw Refused("terminate", instanceId, state.OrchestrationStatus);
        }
        await service.ForceTerminateTaskOrchestrationAsync(instanceId, output);
    }

    /// <summary>
    /// As 3.18.0 TaskHubGrpcServer.CreateGetInstanceResponse and GrpcDurableTaskClient.CreateMetadata: input, output,
    /// custom status and failure details only when <paramref name="getInputsAndOutputs"/> is set; tags always.
    /// </summary>
    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        await GetStateAsync(instanceId) is { } state
            ? ToMetadata(state, getInputsAndOutputs, withOutputAndStatus: getInputsAndOutputs, withTags: true)
            : null;

    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) =>
        Pageable.Create(async (continuation, pageSize, cancellation) =>
        {
            var query = new CoreQuery.OrchestrationQuery
            {
                RuntimeStatus = filter?.Statuses?.Select(ToCore).ToList(),
                CreatedTimeFrom = filter?.CreatedFrom?.UtcDateTime,
                CreatedTimeTo = filter?.CreatedTo?.UtcDateTime,
                InstanceIdPrefix = filter?.InstanceIdPrefix,
                PageSize = pageSize ?? filter?.PageSize ?? OrchestrationQuery.DefaultPageSize,
                ContinuationToken = continuation ?? filter?.ContinuationToken,
                FetchInputsAndOutputs = filter?.FetchInputsAndOutputs ?? false,
            };
            var result = await service.GetOrchestrationWithQueryAsync(query, cancellation);
            // As 3.18.0 ProtobufUtils.CreateQueryInstancesResponse: output and custom status whatever was asked (the backend
            // reads the output either way), input only as fetched, failure details only with FetchInputsAndOutputs, no tags.
            return new Page<OrchestrationMetadata>(
                [.. result.OrchestrationState.Select(s => ToMetadata(s, query.FetchInputsAndOutputs, withOutputAndStatus: true, withTags: false))],
                result.ContinuationToken);
        });

    public override async Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        while (true)
        {
            var metadata = await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation);
            if (metadata is not null && metadata.RuntimeStatus != OrchestrationRuntimeStatus.Pending)
            {
                return metadata;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellation);
        }
    }

    public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        while (true)
        {
            var metadata = await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation);
            if (metadata is { IsCompleted: true })
            {
                return metadata;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellation);
        }
    }

    // TaskHubGrpcServer.PurgeInstances: an unknown instance purges nothing; a live one is refused (FailedPrecondition,
    // which GrpcDurableTaskClient.PurgeInstanceAsync turns into an InvalidOperationException with the same text).
    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var state = await GetStateAsync(instanceId);
        if (state is null)
        {
            return new PurgeResult(0);
        }
        if (IsRunning(state.OrchestrationStatus))
        {
            throw new InvalidOperationException(
                $"Only orchestrations in a terminal state can be purged, but the orchestration with instance ID {instanceId} has status {state.OrchestrationStatus}");
        }
        return new PurgeResult(await PurgeStateAsync(instanceId));
    }

    /// <summary>Purges an instance whatever its status, as the storage backend does (the native HTTP API's DELETE).</summary>
    internal async Task<int> PurgeStateAsync(string instanceId) => (await service.PurgeInstanceHistoryAsync(instanceId)).InstancesDeleted;

    public override async Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var result = await service.PurgeInstanceHistoryAsync(
            filter.CreatedFrom?.UtcDateTime ?? DateTime.MinValue, filter.CreatedTo?.UtcDateTime, filter.Statuses?.Select(ToCore));
        return new PurgeResult(result.InstancesDeleted);
    }

    /// <summary>
    /// The history as it reaches the worker over gRPC (3.18.0 TaskHubGrpcServer.StreamInstanceHistory, read back by
    /// GrpcDurableTaskClient.GetOrchestrationHistoryAsync): an unknown instance throws <see cref="ArgumentException"/>
    /// "An orchestration with the instanceId … was not found."; the proto carries a failure only as its failure details,
    /// so a failed task's or sub-orchestration's <c>Reason</c> and <c>Details</c> are null (ProtoUtils.ConvertHistoryEvent),
    /// and it has no <c>IsPlayed</c>. The backend returns history as JSON; each event is rebuilt as its concrete type.
    /// </summary>
    public override async Task<IList<HistoryEvent>> GetOrchestrationHistoryAsync(string instanceId, CancellationToken cancellation = default)
    {
        if (await GetStateAsync(instanceId) is null)
        {
            throw new ArgumentException($"An orchestration with the instanceId {instanceId} was not found.");
        }
        var json = await service.GetOrchestrationHistoryAsync(instanceId, null);
        var events = new List<HistoryEvent>();
        foreach (var item in Newtonsoft.Json.Linq.JArray.Parse(json).OfType<Newtonsoft.Json.Linq.JObject>())
        {
            var kind = item["EventType"]?.ToObject<EventType>();
            var type = kind is null ? null : typeof(HistoryEvent).Assembly.GetType($"DurableTask.Core.History.{kind}Event");
            if (type is not null && item.ToObject(type) is HistoryEvent historyEvent)
            {
                events.Add(AsOverGrpc(historyEvent));
            }
        }
        return events;
    }

    private static HistoryEvent AsOverGrpc(HistoryEvent historyEvent)
    {
        HistoryEvent converted = historyEvent switch
        {
            TaskFailedEvent failed => new TaskFailedEvent(failed.EventId, failed.TaskScheduledId, null, null, failed.FailureDetails),
            SubOrchestrationInstanceFailedEvent failed =>
                new SubOrchestrationInstanceFailedEvent(failed.EventId, failed.TaskScheduledId, null, null, failed.FailureDetails),
            _ => historyEvent,
        };
        converted.Timestamp = historyEvent.Timestamp;
        converted.IsPlayed = false;
        return converted;
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<Core.OrchestrationState?> GetStateAsync(string instanceId)
    {
        var states = await service.GetOrchestrationStateAsync(instanceId, allExecutions: false);
        // After a purge the backend answers with a list holding null rather than an empty list.
        return states?.FirstOrDefault(s => s?.OrchestrationInstance is not null);
    }

    private async Task<Core.OrchestrationState> RequireStateAsync(string instanceId) =>
        await GetStateAsync(instanceId)
        ?? throw new RpcException(new Status(StatusCode.NotFound, $"ArgumentException: {NoInstance(instanceId)}"));

    /// <summary>DurableClient's ArgumentException text for an unknown instance, parameter name included.</summary>
    private static string NoInstance(string instanceId) =>
        new ArgumentException($"No instance with ID '{instanceId}' was found.", nameof(instanceId)).Message;

    private static RpcException Refused(string operation, string instanceId, Core.OrchestrationStatus status) =>
        new(new Status(StatusCode.FailedPrecondition,
            $"InvalidOperationException: Cannot {operation} the orchestration instance {instanceId} because instance is in the {status} state."));

    private static bool IsRunning(Core.OrchestrationStatus status) => status is Core.OrchestrationStatus.Running
        or Core.OrchestrationStatus.Suspended or Core.OrchestrationStatus.Pending or Core.OrchestrationStatus.ContinuedAsNew;

    private Task SendAsync(string instanceId, HistoryEvent @event) =>
        service.SendTaskOrchestrationMessageAsync(new TaskMessage { OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId }, Event = @event });

    /// <summary>
    /// The metadata GrpcDurableTaskClient.CreateMetadata builds from what the server sent: the data converter, input and
    /// failure details only with <paramref name="withPayloads"/>; output and custom status as the server's call sends
    /// them (<paramref name="withOutputAndStatus"/>); tags only from GetInstance (<paramref name="withTags"/>).
    /// </summary>
    private OrchestrationMetadata ToMetadata(Core.OrchestrationState state, bool withPayloads, bool withOutputAndStatus, bool withTags) =>
        new(state.Name, state.OrchestrationInstance.InstanceId)
        {
            DataConverter = withPayloads ? converter : null,
            RuntimeStatus = (OrchestrationRuntimeStatus)(int)state.OrchestrationStatus,
            CreatedAt = state.CreatedTime,
            LastUpdatedAt = state.LastUpdatedTime,
            SerializedInput = withPayloads ? state.Input : null,
            SerializedOutput = withOutputAndStatus ? state.Output : null,
            SerializedCustomStatus = withOutputAndStatus ? state.Status : null,
            FailureDetails = withPayloads && state.FailureDetails is { } f ? ToFailure(f) : null,
            Tags = withTags && state.Tags is { } tags ? new Dictionary<string, string>(tags) : new Dictionary<string, string>(),
        };

    private static TaskFailureDetails ToFailure(Core.FailureDetails details) =>
        new(details.ErrorType, details.ErrorMessage, details.StackTrace, details.InnerFailure is { } inner ? ToFailure(inner) : null, null);

    /// <summary>The SDK's status enum mirrors the core one value for value.</summary>
    private static Core.OrchestrationStatus ToCore(OrchestrationRuntimeStatus status) =>
        (Core.OrchestrationStatus)(int)status;

    internal static string FormatTime(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}
