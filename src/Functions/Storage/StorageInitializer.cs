using Microsoft.Extensions.Hosting;

namespace Jobs.Functions.Storage;

/// <summary>
/// Creates the tables, queues and container once at start-up, never per request, and checks that the list rows' layout
/// is the one the table was written with (<see cref="IndexLayout.EnsureTableMatchesAsync"/>). It does so in
/// <see cref="StartingAsync"/>, which the host runs before any hosted service's <c>StartAsync</c>: the Functions worker
/// registers the service that opens its channel to the host (and so starts taking invocations) before the app's own
/// services, so work done in <c>StartAsync</c> here could come after the first invocation.
/// </summary>
public sealed class StorageInitializer(StorageClients clients, IndexLayout layout) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await clients.JobsTable.CreateIfNotExistsAsync(cancellationToken);
        await layout.EnsureTableMatchesAsync(clients.JobsTable, cancellationToken);
        await clients.MetricsTable.CreateIfNotExistsAsync(cancellationToken);
        await clients.EventsQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await clients.SubmissionsQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await clients.SubmissionsPoisonQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await clients.ArtifactContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
