using Jobs.Functions.Hosting;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.IntegrationTests.Storage;

/// <summary>
/// Storage is ready before anything that takes work starts. The Functions worker registers the hosted service that opens
/// its channel to the host before the app's services (azure-functions-dotnet-worker: <c>AddFunctionsWorkerCore</c> adds
/// <c>WorkerHostedService</c>, whose <c>StartAsync</c> starts the worker), and the host starts hosted services in
/// registration order; so the tables must exist, and the layout be checked, by then.
/// </summary>
public sealed class StorageInitializerTests
{
    [Fact]
    public async Task TablesExistAndTheLayoutIsRecorded_BeforeAServiceRegisteredAheadOfTheApp_Starts()
    {
        var prefix = "si" + Guid.NewGuid().ToString("N")[..10];
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = TestStorage.ConnectionString,
            ["Jobs:Storage:TablePrefix"] = prefix,
            ["Jobs:Storage:ArtifactContainer"] = "exp-" + prefix,
        });
        var probe = new FirstStartedService();
        builder.Services.AddSingleton<IHostedService>(probe); // as the worker's own hosted service is: ahead of the app's
        builder.Services.AddJobs();
        probe.Check = async services =>
        {
            var clients = services.GetRequiredService<StorageClients>();
            var layout = await clients.JobsTable.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(IndexLayout.LayoutPartition, IndexLayout.LayoutRowKey);
            var metricsTable = false;
            await foreach (var table in clients.Tables.QueryAsync(t => t.Name == clients.MetricsTable.Name))
            {
                metricsTable |= table.Name == clients.MetricsTable.Name;
            }
            return layout.HasValue && metricsTable && (await clients.EventsQueue.ExistsAsync()).Value && (await clients.SubmissionsQueue.ExistsAsync()).Value;
        };
        using var host = builder.Build();
        probe.Services = host.Services;
        await host.StartAsync();
        try
        {
            Assert.True(probe.SawStorageReady, "the Jobs table (with its layout row), the JobMetrics table and the queues existed when the first hosted service started");
        }
        finally
        {
            await host.StopAsync();
            var clients = host.Services.GetRequiredService<StorageClients>();
            await clients.JobsTable.DeleteAsync();
            await clients.MetricsTable.DeleteAsync();
            await clients.ArtifactContainer.DeleteIfExistsAsync();
        }
    }

    private sealed class FirstStartedService : IHostedService
    {
        public Func<IServiceProvider, Task<bool>> Check { get; set; } = _ => Task.FromResult(false);
        public IServiceProvider? Services { get; set; }
        public bool SawStorageReady { get; private set; }

        public async Task StartAsync(CancellationToken cancellationToken) => SawStorageReady = await Check(Services!);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
