using DurableTask.AzureStorage;
using DurableTask.Core;
using Jobs.Functions.Model;
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
/// </summary>
public sealed class DurableEngine : IHostedService, IAsyncDisposable
{
    private readonly AzureStorageOrchestrationService _service;
    private readonly FunctionCatalog _catalog;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggers;
    private readonly CancellationTokenSource _stopping = new();
    private readonly DataConverter _converter;
    private TaskHubWorker? _worker;

    public DurableEngine(EngineSettings settings, FunctionCatalog catalog, DurableRequestCounter counter, IServiceProvider services, ILoggerFactory loggers)
    {
        _catalog = catalog;
        _services = services;
        _loggers = loggers;
        HubName = settings.HubName;
        _service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = settings.HubName,
            StorageAccountClientProvider = CountedClients(settings.ConnectionString, counter.Counter),
            PartitionCount = settings.Host.PartitionCount,
            MaxConcurrentTaskActivityWorkItems = settings.Host.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = settings.Host.MaxConcurrentOrchestrators,
            MaxQueuePollingInterval = settings.Host.DurableMaxQueuePollingInterval,
            WorkItemQueueVisibilityTimeout = settings.Host.DurableWorkItemVisibilityTimeout,
            ControlQueueVisibilityTimeout = settings.Host.DurableControlQueueVisibilityTimeout,
            // A stable worker id lets a restarted runner take its own partition leases back at once.
            WorkerId = settings.WorkerId,
            // As the extension's AzureStorageDurabilityProviderFactory: starting an id that is still live throws.
            ThrowExceptionOnInvalidDedupeStatus = true,
            LoggerFactory = loggers,
        });
        // The service's JSON options, as the Functions worker is configured with (Program.cs): one shape everywhere.
        _converter = new JsonDataConverter(JobJson.Options);
        Client = new AzureStorageDurableTaskClient(_service, _converter, settings.HttpBaseUrl, settings.QueryString);
    }

    public string HubName { get; }

    private static StorageAccountClientProvider CountedClients(string connectionString, Jobs.Functions.Storage.StorageRequestCounter counter)
    {
        var blob = new Azure.Storage.Blobs.BlobClientOptions();
        blob.AddPolicy(counter.PolicyFor("blob"), Azure.Core.HttpPipelinePosition.PerRetry);
        var queue = new Azure.Storage.Queues.QueueClientOptions();
        queue.AddPolicy(counter.PolicyFor("queue"), Azure.Core.HttpPipelinePosition.PerRetry);
        var table = new Azure.Data.Tables.TableClientOptions();
        table.AddPolicy(counter.PolicyFor("table"), Azure.Core.HttpPipelinePosition.PerRetry);
        return new StorageAccountClientProvider(
            StorageServiceClientProvider.ForBlob(connectionString, blob),
            StorageServiceClientProvider.ForQueue(connectionString, queue),
            StorageServiceClientProvider.ForTable(connectionString, table));
    }

    public AzureStorageDurableTaskClient Client { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _service.CreateIfNotExistsAsync();
        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions { DataConverter = _converter }, _loggers);
        _worker = new TaskHubWorker(_service, _loggers) { ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails };
        _worker.AddTaskOrchestrations([.. _catalog.Of(TriggerKind.Orchestration).Select(f =>
            new FactoryCreator<TaskOrchestration>(f.Name, () => shims.CreateOrchestration(new TaskName(f.Name), new FunctionOrchestrator(f, _services, Client, _converter, _loggers))))]);
        _worker.AddTaskActivities([.. _catalog.Of(TriggerKind.Activity).Select(f =>
            new FactoryCreator<TaskActivity>(f.Name, () => shims.CreateActivity(new TaskName(f.Name), new FunctionActivity(f, _services, Client, _stopping.Token))))]);
        await _worker.StartAsync();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_worker is not null)
        {
            await _worker.StopAsync(isForced: true);
        }
    }

    /// <summary>The instance's history events as the backend stores them (for <c>showHistory=true</c>).</summary>
    public async Task<System.Text.Json.Nodes.JsonArray> ReadHistoryAsync(string instanceId)
    {
        var json = await _service.GetOrchestrationHistoryAsync(instanceId, null);
        return System.Text.Json.Nodes.JsonNode.Parse(json) as System.Text.Json.Nodes.JsonArray ?? [];
    }

    public async ValueTask DisposeAsync()
    {
        _worker?.Dispose();
        _service.Dispose();
        _stopping.Dispose();
        await Client.DisposeAsync();
    }
}

/// <summary>Everything the engine needs, resolved once at start-up.</summary>
public sealed record EngineSettings(string HubName, string ConnectionString, HostSettings Host, string WorkerId, string HttpBaseUrl, string QueryString);
