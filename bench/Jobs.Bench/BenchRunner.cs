using Jobs.Functions.Identity;
using Jobs.Functions.Storage;
using Jobs.LocalRunner;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Durable;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Bench;

/// <summary>The real app in the local runner (Release build), on a free port, with a fresh task hub and tables.</summary>
public sealed class BenchRunner : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchRunner(WebApplication app) => _app = app;

    public Uri BaseAddress => new(_app.Urls.First());
    public StorageRequestCounter AppRequests => _app.Services.GetRequiredService<StorageRequestCounter>();
    public StorageRequestCounter DurableRequests => _app.Services.GetRequiredService<DurableRequestCounter>().Counter;
    public StorageClients Storage => _app.Services.GetRequiredService<StorageClients>();
    public JobStore Store => _app.Services.GetRequiredService<JobStore>();
    public IndexLayout Layout => _app.Services.GetRequiredService<IndexLayout>();
    public JobCounters Counters => _app.Services.GetRequiredService<JobCounters>();
    public Microsoft.DurableTask.Client.DurableTaskClient Durable => _app.Services.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>();

    public static async Task<BenchRunner> StartAsync(
        string repoRoot, string connectionString, string prefix,
        IReadOnlyDictionary<string, string?>? extraSettings = null, Action<IServiceCollection>? configureServices = null, bool timers = false,
        string? taskHubConnection = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connectionString,
            ["Jobs:Storage:TablePrefix"] = prefix,
            ["Jobs:Storage:ArtifactContainer"] = "exp-" + prefix.ToLowerInvariant(),
            ["Logging:LogLevel:Default"] = "Warning",
            // The bench signs its callers in with the principal header, as App Service Authentication would.
            ["Jobs:Identity:TrustClientPrincipal"] = "true",
        };
        if (taskHubConnection is not null)
        {
            // The task hub on a storage connection of its own, named in host.json as a user would (here by the host's override).
            settings["DurableStorage"] = taskHubConnection;
            settings["AzureFunctionsJobHost:extensions:durableTask:storageProvider:connectionName"] = "DurableStorage";
        }
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var app = RunnerHost.Build(new RunnerOptions
        {
            ContentRoot = repoRoot,
            Urls = "http://127.0.0.1:0",
            LoadLocalSettings = false,
            TaskHubOverride = "bench" + prefix,
            EnableQueueTriggers = false,
            EnableTimerTriggers = timers,
            Settings = settings,
            ConfigureServices = configureServices,
        });
        await app.StartAsync();
        return new BenchRunner(app);
    }

    public HttpClient Client(string user, params string[] roles)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Add(CallerResolver.PrincipalHeader, Jobs.Client.AppServicePrincipal.Header(user, roles));
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
