using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Storage;

/// <summary>
/// An extra Azure SDK pipeline policy for the service's own storage clients (tables, queues, blobs), registered in
/// DI. Nothing in the product registers one; tests use it to inject storage faults into the app's real pipeline.
/// </summary>
public sealed record StoragePipelinePolicy(HttpPipelinePolicy Policy, HttpPipelinePosition Position);

/// <summary>
/// The service's Azure SDK clients, created once per process (they are thread-safe and pool connections).
/// Every client shares <see cref="StorageRequestCounter"/> so the benchmark can count requests by kind.
/// </summary>
public sealed class StorageClients
{
    public StorageClients(IConfiguration configuration, IOptions<StorageOptions> options, StorageRequestCounter counter, IEnumerable<StoragePipelinePolicy> extraPolicies)
    {
        var settings = options.Value;
        var connection = Connection(configuration, settings.ConnectionSetting);

        var tableOptions = new TableClientOptions();
        tableOptions.Retry.MaxRetries = settings.MaxRetries;
        tableOptions.AddPolicy(counter.PolicyFor("table"), HttpPipelinePosition.PerRetry);
        // Queue messages are base64 on both sides: the Functions queue trigger expects it by default.
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        queueOptions.Retry.MaxRetries = settings.MaxRetries;
        queueOptions.AddPolicy(counter.PolicyFor("queue"), HttpPipelinePosition.PerRetry);
        var blobOptions = new BlobClientOptions();
        blobOptions.Retry.MaxRetries = settings.MaxRetries;
        blobOptions.AddPolicy(counter.PolicyFor("blob"), HttpPipelinePosition.PerRetry);
        foreach (var extra in extraPolicies)
        {
            tableOptions.AddPolicy(extra.Policy, extra.Position);
            queueOptions.AddPolicy(extra.Policy, extra.Position);
            blobOptions.AddPolicy(extra.Policy, extra.Position);
        }

        Tables = connection.CreateTableServiceClient(tableOptions);
        Queues = connection.CreateQueueServiceClient(queueOptions);
        Blobs = connection.CreateBlobServiceClient(blobOptions);

        JobsTable = Tables.GetTableClient(settings.TablePrefix + "Jobs");
        MetricsTable = Tables.GetTableClient(settings.TablePrefix + "JobMetrics");
        EventsQueue = Queues.GetQueueClient(QueueNames.Events);
        SubmissionsQueue = Queues.GetQueueClient(QueueNames.Submissions);
        SubmissionsPoisonQueue = Queues.GetQueueClient(QueueNames.SubmissionsPoison);
        ArtifactContainer = Blobs.GetBlobContainerClient(settings.ArtifactContainer);
    }

    /// <summary>
    /// The connection <paramref name="name"/> names: <c>ConnectionStrings:{name}</c> or the setting <c>{name}</c>, a
    /// connection string or an identity-based connection (<see cref="StorageConnection"/>).
    /// </summary>
    public static StorageConnection Connection(IConfiguration configuration, string name)
    {
        var section = configuration.GetSection("ConnectionStrings").GetSection(name);
        return StorageConnection.TryRead(section.Exists() ? section : configuration.GetSection(name))
            ?? throw new InvalidOperationException(
                $"The storage connection setting '{name}' is not set: give it a connection string, or {name}__accountName (or {name}__blobServiceUri, __queueServiceUri, __tableServiceUri) for an identity-based connection.");
    }

    public TableServiceClient Tables { get; }
    public QueueServiceClient Queues { get; }
    public BlobServiceClient Blobs { get; }
    public TableClient JobsTable { get; }

    /// <summary>
    /// The metrics' roll-up rows (<see cref="MetricRow"/>), apart from the jobs table so that a range read of them touches
    /// only roll-up rows (Azurite scans a whole table for every range read; docs/storage.md, "Metrics").
    /// </summary>
    public TableClient MetricsTable { get; }
    public QueueClient EventsQueue { get; }
    public QueueClient SubmissionsQueue { get; }
    public QueueClient SubmissionsPoisonQueue { get; }
    public BlobContainerClient ArtifactContainer { get; }
}
