using Microsoft.Extensions.Hosting;

namespace Jobs.Functions.Storage;

/// <summary>Creates the tables, queues and container once at start-up, never per request.</summary>
public sealed class StorageInitializer(StorageClients clients) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await clients.JobsTable.CreateIfNotExistsAsync(cancellationToken);
        await clients.EventsQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await clients.SubmissionsQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await clients.SubmissionsPoisonQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await clients.ExportContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
