using System.Collections.Concurrent;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Entities;

namespace Jobs.LocalRunner.Durable;

/// <summary>
/// The Azure Storage orchestration service as the runner's <see cref="TaskHubWorker"/> sees it, with what a graceful
/// stop needs and the worker does not expose: how many activity work items are still held (locked and neither completed
/// nor abandoned), and a gate that holds their completions back while the worker lets go of its control queues.
/// <para>Why the gate: an activity that finishes during the stop sends its result to a control queue. If that queue is
/// still being listened to, the result can be prefetched into memory, never processed (the orchestration dispatcher
/// has stopped) and stay invisible for the control queue's visibility timeout after a restart. Sent after the listener
/// has released the queue, it waits there, visible, for the next start.</para>
/// <para>A forced stop (<see cref="BeginForcedStop"/>, the extension's default) instead drops what activities report
/// after it began, completions and abandons alike: in the host the worker process goes away with the stop, so the result
/// never reaches the task hub, and the work item comes back when its visibility timeout ends.</para>
/// Everything else is passed through unchanged (entities included, so the dispatchers behave as with the service itself).
/// </summary>
internal sealed class DrainingOrchestrationService(AzureStorageOrchestrationService inner) : IOrchestrationService, IEntityOrchestrationService
{
    private readonly TaskCompletionSource _completionsReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, byte> _heldActivities = new();
    private volatile bool _draining;
    private volatile bool _forced;

    /// <summary>Activity work items locked and not yet completed or abandoned.</summary>
    public int HeldActivities => _heldActivities.Count;

    /// <summary>From now on no activity work item is taken, and completions wait for <see cref="ReleaseCompletions"/>.</summary>
    public void BeginDrain() => _draining = true;

    /// <summary>
    /// From now on no activity work item is taken, and what held ones report is dropped: they stay locked until their
    /// visibility timeout, as after the process has gone.
    /// </summary>
    public void BeginForcedStop()
    {
        _forced = true;
        _draining = true;
    }

    /// <summary>Lets held completions through (once the control queues are released).</summary>
    public void ReleaseCompletions() => _completionsReleased.TrySetResult();

    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;

    public int MaxConcurrentTaskOrchestrationWorkItems => inner.MaxConcurrentTaskOrchestrationWorkItems;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;

    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;

    public int MaxConcurrentTaskActivityWorkItems => inner.MaxConcurrentTaskActivityWorkItems;

    public EntityBackendProperties? EntityBackendProperties => ((IEntityOrchestrationService)inner).EntityBackendProperties;

    public EntityBackendQueries? EntityBackendQueries => ((IEntityOrchestrationService)inner).EntityBackendQueries;

    public Task StartAsync() => inner.StartAsync();

    public Task StopAsync() => inner.StopAsync();

    public Task StopAsync(bool isForced) => inner.StopAsync(isForced);

    public Task CreateAsync() => inner.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();

    public Task DeleteAsync() => inner.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);

    public Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);

    public Task<TaskOrchestrationWorkItem> LockNextOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        ((IEntityOrchestrationService)inner).LockNextOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);

    public Task<TaskOrchestrationWorkItem> LockNextEntityWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        ((IEntityOrchestrationService)inner).LockNextEntityWorkItemAsync(receiveTimeout, cancellationToken);

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    public Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState, IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages, TaskMessage continuedAsNewMessage, OrchestrationState orchestrationState) =>
        inner.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages,
            continuedAsNewMessage, orchestrationState);

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.AbandonTaskOrchestrationWorkItemAsync(workItem);

    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);

    public async Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        if (_draining)
        {
            return null!; // the dispatcher treats null as "nothing to do"
        }
        var workItem = await inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken);
        if (workItem is null)
        {
            return null!;
        }
        if (_draining)
        {
            // Fetched while the stop began: a stopped dispatcher would drop it, locked until its visibility timeout.
            await inner.AbandonTaskActivityWorkItemAsync(workItem);
            return null!;
        }
        _heldActivities[workItem.Id] = 0;
        return workItem;
    }

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => inner.RenewTaskActivityWorkItemLockAsync(workItem);

    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        if (_forced)
        {
            return;
        }
        if (_draining)
        {
            await _completionsReleased.Task;
        }
        await inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);
        // A completion that fails is abandoned by the dispatcher next, which lets go of it there.
        _heldActivities.TryRemove(workItem.Id, out _);
    }

    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        if (_forced)
        {
            return;
        }
        try
        {
            await inner.AbandonTaskActivityWorkItemAsync(workItem);
        }
        finally
        {
            _heldActivities.TryRemove(workItem.Id, out _);
        }
    }
}
