using Microsoft.Extensions.Hosting;

namespace Jobs.Functions.Storage;

/// <summary>
/// Creates the tables, queues and container once at start-up, never per request, and checks that the list rows' layout
/// is the one the table was written with (<see cref="IndexLayout.EnsureTableMatchesAsync"/>).
/// </summary>
public sealed class StorageInitializer(StorageClients clients, IndexLayout layout) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await clients.JobsTable.CreateIfNotExistsAsync(cancellationToken);
        await layout.EnsureTableMatchesAsync(clients.JobsTable, cancellationToken);
        await clients.EventsQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await clients.SubmissionsQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await clients.SubmissionsPoisonQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await clients.ExportContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
