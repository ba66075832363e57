using DurableTask.AzureStorage;
using DurableTask.Core;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Durable;

/// <summary>
/// Runs the app's orchestrators and activities on the Durable Task Framework's Azure Storage backend — the
/// provider Durable Functions uses by default — with the task hub from host.json. State lives in storage,
/// so a killed runner resumes its orchestrations at the step that had not finished.
/// <para>Stopping (SIGTERM, Ctrl+C, <see cref="StopAsync"/>) follows host.json's <c>useGracefulShutdown</c>. Unset or
/// false (the extension's default) the stop is forced: running activities see their cancellation token at once, no
/// result of theirs is sent, and their work items come back after the visibility timeout, as after a kill. True: no new
/// work is taken, running activities get <see cref="HostSettings.GracefulShutdownTimeout"/> to finish and their results
/// are kept, and what is still running then is told to stop and released (abandoned), so a restart picks it up at once
/// instead of after the work item's visibility timeout. A killed process (<c>kill -9</c>) recovers through the
/// visibility timeouts either way.</para>
/// </summary>
public sealed partial class DurableEngine : IHostedService, IAsyncDisposable
{
    private readonly AzureStorageOrchestrationService _service;
    private readonly AzureStorageOrchestrationServiceSettings _serviceSettings;
    private readonly List<IDisposable> _retired = [];
    private DrainingOrchestrationService _workerService;
    private readonly bool _useGracefulShutdown;
    private readonly TimeSpan _gracefulShutdownTimeout;
    private readonly TimeSpan _workItemVisibilityTimeout;
    private readonly ILogger _logger;
    private readonly FunctionCatalog _catalog;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggers;
    private CancellationTokenSource _stopping = new();
    private readonly DataConverter _converter;
    private TaskHubWorker? _worker;

    public DurableEngine(
        EngineSettings settings, FunctionCatalog catalog, DurableRequestCounter counter, IServiceProvider services, ILoggerFactory loggers)
    {
        _useGracefulShutdown = settings.Host.UseGracefulShutdown;
        _gracefulShutdownTimeout = settings.Host.GracefulShutdownTimeout;
        _workItemVisibilityTimeout = settings.Host.DurableWorkItemVisibilityTimeout;
        _logger = loggers.CreateLogger<DurableEngine>();
        _catalog = catalog;
        _services = services;
        _loggers = loggers;
        HubName = settings.HubName;
        _serviceSettings = ServiceSettings(settings, CountedClients(settings.Connection, counter.Counter), loggers);
        _service = new AzureStorageOrchestrationService(_serviceSettings);
        _workerService = new DrainingOrchestrationService(_service);
        // The service's JSON options, as the Functions worker is configured with (Program.cs): one shape everywhere.
        _converter = new JsonDataConverter(JobJson.Options);
        Client = new AzureStorageDurableTaskClient(_service, _converter, settings.QueryString,
            settings.Host.OverridableExistingInstanceStates, settings.Host.ThrowStatusExceptionsOnRaiseEvent);
    }

    public string HubName { get; }

    /// <summary>
    /// The backend's settings from host.json, as the extension's AzureStorageDurabilityProviderFactory builds them. Public
    /// for the benchmark, whose bare engine runs on exactly these (its baseline is the engine as Durable Functions
    /// configures it, not the framework's own defaults, which differ: a control-queue buffer of 64 messages, not 256).
    /// </summary>
    public static AzureStorageOrchestrationServiceSettings ServiceSettings(EngineSettings settings, StorageAccountClientProvider clients, ILoggerFactory loggers) =>
        new()
        {
            TaskHubName = settings.HubName,
            StorageAccountClientProvider = clients,
            PartitionCount = settings.Host.PartitionCount,
            MaxConcurrentTaskActivityWorkItems = settings.Host.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = settings.Host.MaxConcurrentOrchestrators,
            MaxQueuePollingInterval = settings.Host.DurableMaxQueuePollingInterval,
            WorkItemQueueVisibilityTimeout = settings.Host.DurableWorkItemVisibilityTimeout,
            ControlQueueVisibilityTimeout = settings.Host.DurableControlQueueVisibilityTimeout,
            // The extension's AzureStorageDurabilityProviderFactory passes AzureStorageOptions.ControlQueueBufferThreshold (default 256).
            ControlQueueBufferThreshold = settings.Host.ControlQueueBufferThreshold,
            ExtendedSessionsEnabled = settings.Host.ExtendedSessionsEnabled,
            ExtendedSessionIdleTimeout = settings.Host.ExtendedSessionIdleTimeout,
            // A stable worker id lets a restarted runner take its own partition leases back at once.
            WorkerId = settings.WorkerId,
            // As the extension's AzureStorageDurabilityProviderFactory: starting an id that is still live throws.
            ThrowExceptionOnInvalidDedupeStatus = true,
            LoggerFactory = loggers,
        };

    /// <summary>The backend's storage clients, every request counted (the bench counts the bare engine's the same way).</summary>
    public static StorageAccountClientProvider CountedClients(StorageConnection connection, Jobs.Functions.Storage.StorageRequestCounter counter)
    {
        var blob = new Azure.Storage.Blobs.BlobClientOptions();
        blob.AddPolicy(counter.PolicyFor("blob"), Azure.Core.HttpPipelinePosition.PerRetry);
        var queue = new Azure.Storage.Queues.QueueClientOptions();
        queue.AddPolicy(counter.PolicyFor("queue"), Azure.Core.HttpPipelinePosition.PerRetry);
        var table = new Azure.Data.Tables.TableClientOptions();
        table.AddPolicy(counter.PolicyFor("table"), Azure.Core.HttpPipelinePosition.PerRetry);
        return connection.Credential is { } credential
            ? new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(connection.BlobServiceUri!, credential, blob),
                StorageServiceClientProvider.ForQueue(connection.QueueServiceUri!, credential, queue),
                StorageServiceClientProvider.ForTable(connection.TableServiceUri!, credential, table))
            : new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(connection.ConnectionString!, blob),
                StorageServiceClientProvider.ForQueue(connection.ConnectionString!, queue),
                StorageServiceClientProvider.ForTable(connection.ConnectionString!, table));
    }

    public AzureStorageDurableTaskClient Client { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _service.CreateIfNotExistsAsync();
        await StartWorkerAsync();
    }

    /// <summary>
    /// A host restart (<see cref="Restarts.HostRestarter"/>): the worker stops forced, whatever <c>useGracefulShutdown</c>
    /// says — the worker process goes away with the restarted host, so nothing a running activity reports afterwards is
    /// sent and its work item comes back after the visibility timeout — and a fresh worker starts on a fresh backend
    /// instance with the same worker id, which takes the partition leases back at once. The client is not restarted.
    /// </summary>
    internal async Task RestartWorkerAsync()
    {
        if (_worker is { } worker)
        {
            _workerService.BeginForcedStop();
            await _stopping.CancelAsync();
            await worker.StopAsync(isForced: true);
            LogForcedStop(_workerService.HeldActivities, _workItemVisibilityTimeout);
            // Activities of the stopped worker may still be running: what they hold is let go with the engine.
            _retired.Add(worker);
            _retired.Add(_stopping);
        }
        _stopping = new CancellationTokenSource();
        var backend = new AzureStorageOrchestrationService(_serviceSettings);
        _retired.Add(backend);
        _workerService = new DrainingOrchestrationService(backend);
        await StartWorkerAsync();
    }

    private async Task StartWorkerAsync()
    {
        var stopping = _stopping.Token;
        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions { DataConverter = _converter }, _loggers);
        _worker = new TaskHubWorker(_workerService, _loggers) { ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails };
        _worker.AddTaskOrchestrations([.. _catalog.Of(TriggerKind.Orchestration).Select(f =>
            new FactoryCreator<TaskOrchestration>(f.Name, () => shims.CreateOrchestration(new TaskName(f.Name), new FunctionOrchestrator(f, _services, Client, _converter, _loggers))))]);
        _worker.AddTaskActivities([.. _catalog.Of(TriggerKind.Activity).Select(f =>
            new FactoryCreator<TaskActivity>(f.Name, () => shims.CreateActivity(new TaskName(f.Name), new FunctionActivity(f, _services, Client, stopping))))]);
        await _worker.StartAsync();
    }

    /// <summary>
    /// Stops as host.json's <c>useGracefulShutdown</c> says (see the class summary): forced, or gracefully. Forced is the
    /// extension's TaskHubWorker.StopAsync(isForced: true) with the function's cancellation token signalled at once (the
    /// host cancels running invocations when it stops); what the activities report afterwards is dropped, as it would be
    /// lost with the worker process.
    /// <para>Graceful: the order matters: activities stop being taken first; orchestration
    /// replays in flight finish (DurableTask.Core's WorkItemDispatcher.StopAsync(forced: false) waits for them); the
    /// service then releases its control-queue leases and stops listening (AzureStorageOrchestrationService.StopAsync);
    /// only then do results of activities that finish meanwhile go to their control queues, where the next start finds
    /// them. At the deadline the activities still running see their cancellation token, and one that fails because of
    /// it is abandoned (visible again within seconds) instead of failed. The host's own shutdown token is not used as
    /// the bound: this setting is.</para>
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_worker is null)
        {
            await _stopping.CancelAsync();
            return;
        }
        if (!_useGracefulShutdown)
        {
            _workerService.BeginForcedStop();
            await _stopping.CancelAsync();
            await _worker.StopAsync(isForced: true);
            LogForcedStop(_workerService.HeldActivities, _workItemVisibilityTimeout);
            return;
        }
        var deadline = DateTime.UtcNow + _gracefulShutdownTimeout;
        _workerService.BeginDrain();
        await _worker.TaskActivityDispatcher.StopAsync(forced: true);
        await _worker.TaskOrchestrationDispatcher.StopAsync(forced: false);
        await _worker.StopAsync(isForced: false);
        _workerService.ReleaseCompletions();
        LogDraining(_workerService.HeldActivities, _gracefulShutdownTimeout);

        await WaitForHeldActivitiesAsync(deadline);
        if (_workerService.HeldActivities > 0)
        {
            LogReleasing(_workerService.HeldActivities);
            await _stopping.CancelAsync();
            // An activity that ignores its token keeps its work item until the visibility timeout, as after a kill.
            await WaitForHeldActivitiesAsync(DateTime.UtcNow + AbandonGrace);
        }
        await _stopping.CancelAsync();
        LogStopped(_workerService.HeldActivities);
    }

    private static readonly TimeSpan AbandonGrace = TimeSpan.FromSeconds(10);

    private async Task WaitForHeldActivitiesAsync(DateTime until)
    {
        while (_workerService.HeldActivities > 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Durable worker stopped (forced; useGracefulShutdown is off): {Running} activity work item(s) were running and come back after their visibility timeout ({Timeout}).")]
    private partial void LogForcedStop(int running, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Durable worker stopping: {Running} activity work item(s) running, up to {Timeout} to finish.")]
    private partial void LogDraining(int running, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Durable worker stopping: {Running} activity work item(s) still running at the deadline; cancelling and releasing them.")]
    private partial void LogReleasing(int running);

    [LoggerMessage(Level = LogLevel.Information, Message = "Durable worker stopped; {Left} activity work item(s) left to their visibility timeout.")]
    private partial void LogStopped(int left);

    /// <summary>The instance's history events as the backend stores them (for <c>showHistory=true</c>).</summary>
    public async Task<System.Text.Json.Nodes.JsonArray> ReadHistoryAsync(string instanceId)
    {
        var json = await _service.GetOrchestrationHistoryAsync(instanceId, null);
        return System.Text.Json.Nodes.JsonNode.Parse(json) as System.Text.Json.Nodes.JsonArray ?? [];
    }

    public async ValueTask DisposeAsync()
    {
        _worker?.Dispose();
        foreach (var retired in _retired)
        {
            retired.Dispose();
        }
        _service.Dispose();
        _stopping.Dispose();
        await Client.DisposeAsync();
    }
}

/// <summary>Everything the engine needs, resolved once at start-up.</summary>
public sealed record EngineSettings(string HubName, StorageConnection Connection, HostSettings Host, string WorkerId, string QueryString);
