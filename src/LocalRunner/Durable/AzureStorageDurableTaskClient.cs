using System.Globalization;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.History;
using Jobs.Functions.Api;
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
/// </summary>
public sealed class AzureStorageDurableTaskClient(
    AzureStorageOrchestrationService service, DataConverter converter, string httpBaseUrl, string queryString)
    : DurableTaskClient("local-runner"), IDurableHttpEndpoint
{
    private static readonly Core.OrchestrationStatus[] RunningStatuses =
        [Core.OrchestrationStatus.Pending, Core.OrchestrationStatus.Running, Core.OrchestrationStatus.Suspended];

    public string HttpBaseUrl => httpBaseUrl;

    public string QueryString => queryString;

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        var instance = new OrchestrationInstance
        {
            InstanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N"),
            ExecutionId = Guid.NewGuid().ToString("N"),
        };
        var message = new TaskMessage
        {
            OrchestrationInstance = instance,
            Event = new ExecutionStartedEvent(-1, converter.Serialize(input))
            {
                Name = orchestratorName.Name,
                Version = options?.Version?.Version ?? "",
                OrchestrationInstance = instance,
                ScheduledStartTime = options?.StartAt?.UtcDateTime,
                Tags = options?.Tags?.ToDictionary(t => t.Key, t => t.Value) ?? [],
            },
        };
        // Refuse to start over an instance that is still live, as Durable Functions does.
        await service.CreateTaskOrchestrationAsync(message, RunningStatuses);
        return instance.InstanceId;
    }

    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new EventRaisedEvent(-1, converter.Serialize(eventPayload)) { Name = eventName });

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionSuspendedEvent(-1, reason));

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionResumedEvent(-1, reason));

    public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default) =>
        service.ForceTerminateTaskOrchestrationAsync(instanceId, converter.Serialize(options?.Output));

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        var states = await service.GetOrchestrationStateAsync(instanceId, allExecutions: false);
        // After a purge the backend answers with a list holding null rather than an empty list.
        var state = states?.FirstOrDefault(s => s?.OrchestrationInstance is not null);
        return state is null ? null : ToMetadata(state, getInputsAndOutputs);
    }

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
            return new Page<OrchestrationMetadata>(
                [.. result.OrchestrationState.Select(s => ToMetadata(s, query.FetchInputsAndOutputs))], result.ContinuationToken);
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

    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var result = await service.PurgeInstanceHistoryAsync(instanceId);
        return new PurgeResult(result.InstancesDeleted);
    }

    public override async Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var result = await service.PurgeInstanceHistoryAsync(
            filter.CreatedFrom?.UtcDateTime ?? DateTime.MinValue, filter.CreatedTo?.UtcDateTime, filter.Statuses?.Select(ToCore));
        return new PurgeResult(result.InstancesDeleted);
    }

    /// <summary>The backend returns history as JSON; each event is rebuilt as its concrete DurableTask.Core type.</summary>
    public override async Task<IList<HistoryEvent>> GetOrchestrationHistoryAsync(string instanceId, CancellationToken cancellation = default)
    {
        var json = await service.GetOrchestrationHistoryAsync(instanceId, null);
        var events = new List<HistoryEvent>();
        foreach (var item in Newtonsoft.Json.Linq.JArray.Parse(json).OfType<Newtonsoft.Json.Linq.JObject>())
        {
            var kind = item["EventType"]?.ToObject<EventType>();
            var type = kind is null ? null : typeof(HistoryEvent).Assembly.GetType($"DurableTask.Core.History.{kind}Event");
            if (type is not null && item.ToObject(type) is HistoryEvent historyEvent)
            {
                events.Add(historyEvent);
            }
        }
        return events;
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task SendAsync(string instanceId, HistoryEvent @event) =>
        service.SendTaskOrchestrationMessageAsync(new TaskMessage { OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId }, Event = @event });

    private OrchestrationMetadata ToMetadata(Core.OrchestrationState state, bool withPayloads) =>
        new(state.Name, state.OrchestrationInstance.InstanceId)
        {
            DataConverter = withPayloads ? converter : null,
            RuntimeStatus = (OrchestrationRuntimeStatus)(int)state.OrchestrationStatus,
            CreatedAt = state.CreatedTime,
            LastUpdatedAt = state.LastUpdatedTime,
            SerializedInput = withPayloads ? state.Input : null,
            SerializedOutput = withPayloads ? state.Output : null,
            SerializedCustomStatus = state.Status,
            FailureDetails = state.FailureDetails is { } f ? ToFailure(f) : null,
        };

    private static TaskFailureDetails ToFailure(Core.FailureDetails details) =>
        new(details.ErrorType, details.ErrorMessage, details.StackTrace, details.InnerFailure is { } inner ? ToFailure(inner) : null, null);

    /// <summary>The SDK's status enum mirrors the core one value for value.</summary>
    private static Core.OrchestrationStatus ToCore(OrchestrationRuntimeStatus status) =>
        (Core.OrchestrationStatus)(int)status;

    internal static string FormatTime(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}
