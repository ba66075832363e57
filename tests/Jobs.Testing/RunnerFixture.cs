using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Handlers;
using Jobs.Functions.Identity;
using Jobs.Functions.Storage;
using Jobs.LocalRunner;
using Jobs.LocalRunner.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Testing;

/// <summary>
/// The real app in the local runner, on a free loopback port, against the test Azurite, with a task hub and
/// table prefix of its own so fixtures never see each other's data. Tests talk to it over real HTTP.
/// </summary>
public class RunnerFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string HubName { get; } = "h" + Guid.NewGuid().ToString("N")[..12];
    public string TablePrefix { get; } = "t" + Guid.NewGuid().ToString("N")[..10];
    public Uri BaseAddress { get; private set; } = null!;
    public string SystemKey { get; } = "sys-" + Guid.NewGuid().ToString("N");
    public IServiceProvider Services => _app!.Services;
    public StorageClients Storage => Services.GetRequiredService<StorageClients>();
    public JobStore Store => Services.GetRequiredService<JobStore>();

    /// <summary>Only one fixture per test run may consume the shared job-submissions queue.</summary>
    protected virtual bool QueueTriggers => false;

    protected virtual bool TimerTriggers => false;

    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [];

    /// <summary>Services added after the app's own, e.g. job types that exist only in tests.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = TestStorage.ConnectionString,
            ["Jobs:Storage:TablePrefix"] = TablePrefix,
            ["Jobs:Storage:ArtifactContainer"] = "exp-" + TablePrefix.ToLowerInvariant(),
            ["Jobs:Identity:TrustClientPrincipal"] = "true",
            ["Jobs:Runner:SystemKey"] = SystemKey,
            // Fixtures share one content root, so the default host id would be the same: each runner gets its own, or
            // their timers would share one singleton lock and only one fixture's timers would run.
            [HostId.Setting] = HubName,
            // Jobs still running when a fixture stops are released after 2 s instead of the 30 s a deployment gets.
            [Jobs.LocalRunner.Configuration.HostSettings.GracefulShutdownTimeoutKey] = "00:00:02",
            // As under Core Tools (func start sets it): DI scopes and the container are validated, so a scope bug fails here.
            [RunnerHost.EnvironmentSetting] = "Development",
            // Expected failures (failing steps, poisoned messages) would flood the test log; raise it to debug.
            ["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("JOBS_TEST_LOG_LEVEL") ?? "Critical",
        };
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }
        _app = RunnerHost.Build(new RunnerOptions
        {
            ContentRoot = RepoPaths.Root,
            Urls = "http://127.0.0.1:0",
            LoadLocalSettings = false,
            TaskHubOverride = HubName,
            Settings = settings,
            EnableQueueTriggers = QueueTriggers,
            EnableTimerTriggers = TimerTriggers,
            ConfigureServices = ConfigureServices,
        });
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    /// <summary>An HTTP client signed in as <paramref name="user"/> (null: anonymous).</summary>
    public HttpClient Client(string? user, params string[] roles)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (user is not null)
        {
            client.DefaultRequestHeaders.Add(CallerResolver.PrincipalHeader, Principals.Header(user, roles));
        }
        return client;
    }

    /// <summary>Creates a job over HTTP and returns its body (asserting 202).</summary>
    public static async Task<JsonObject> CreateJobAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/jobs", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Polls <c>/status</c> until <paramref name="until"/> holds, or fails after the timeout.</summary>
    public static async Task<JsonObject> PollStatusAsync(HttpClient client, string id, Func<JsonObject, bool> until, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/status"))!.AsObject();
            if (until(last))
            {
                return last;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Job {id} never reached the expected state; last seen: {last?.ToJsonString()}");
    }

    /// <summary>Polls a Durable-style status URL until the instance's runtimeStatus is <paramref name="runtimeStatus"/>.</summary>
    public static async Task<JsonNode> WaitForRuntimeStatusAsync(HttpClient client, string statusUri, string runtimeStatus)
    {
        JsonNode? last = null;
        for (var i = 0; i < 200; i++)
        {
            using var response = await client.GetAsync(statusUri);
            last = JsonNode.Parse(await response.Content.ReadAsStringAsync());
            if ((string?)last?["runtimeStatus"] == runtimeStatus)
            {
                return last!;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{statusUri} never reached {runtimeStatus}; last seen: {last?.ToJsonString()}");
    }

    /// <summary>The messages of a completed job's log, once its closing line is there (it follows the record's end; bounded wait).</summary>
    public static async Task<List<string>> LogMessagesOfEndedJobAsync(HttpClient client, string id)
    {
        List<string> lines = [];
        for (var i = 0; i < 100 && !lines.Any(l => l.StartsWith("Job completed", StringComparison.Ordinal)); i++)
        {
            if (i > 0)
            {
                await Task.Delay(50);
            }
            lines = [.. JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray()
                .Select(l => (string)l!["message"]!)];
        }
        return lines;
    }

    public static Task<JsonObject> WaitForEndAsync(HttpClient client, string id, TimeSpan? timeout = null) =>
        PollStatusAsync(client, id, s => (string?)s["status"] is "completed" or "failed" or "cancelled" or "timed_out", timeout);
}

/// <summary>A runner whose timers fire every second, with a retention of a few seconds: for maintenance tests only.</summary>
public sealed class MaintenanceRunnerFixture : RunnerFixture
{
    public const double RetentionDays = 6.0 / 86_400;

    protected override bool TimerTriggers => true;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Jobs:Runner:Schedules:SweepTimedOutJobs", "*/1 * * * * *"),
        new("Jobs:Runner:Schedules:PurgeOldJobs", "*/1 * * * * *"),
        new("Jobs:Reconciler:GraceSeconds", "1"),
        new("Jobs:Retention:MaxAgeDays", RetentionDays.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
    ];

    protected override void ConfigureServices(IServiceCollection services) => services.AddJobHandler<StubbornHandler>();
}

/// <summary>
/// A runner with job types limited in concurrency (<see cref="SingleSlotHandler"/>, the app's <c>demo.limited</c>) and a
/// type to pause (<see cref="PausableHandler"/>), whose reconciler runs every second with a grace of one. Its storage
/// requests can be watched (<see cref="Requests"/>, which injects no fault here).
/// </summary>
public sealed class ConcurrencyRunnerFixture : RunnerFixture
{
    public StorageFaults Requests { get; } = new();

    protected override bool TimerTriggers => true;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Jobs:Runner:Schedules:SweepTimedOutJobs", "*/1 * * * * *"),
        new("Jobs:Reconciler:GraceSeconds", "1"),
    ];

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(new StoragePipelinePolicy(Requests, Azure.Core.HttpPipelinePosition.PerRetry));
        services.AddJobHandler<SingleSlotHandler>();
        services.AddJobHandler<PausableHandler>();
    }
}

/// <summary>
/// A runner that checks keys as the host in Azure does, with a host id of its own, so its stored keys (the master
/// key among them) are in a secrets blob no other fixture uses.
/// </summary>
public sealed class KeyedRunnerFixture : RunnerFixture
{
    public const string FunctionKey = "fn-key-for-tests";

    public string HostId { get; } = "keyed" + Guid.NewGuid().ToString("N")[..12];

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Jobs:Runner:RequireKeys", "true"),
        new("Jobs:Runner:FunctionKey", FunctionKey),
        new("AzureFunctionsWebHost:hostid", HostId),
    ];

    /// <summary>The host secrets the runner stored, read as a user would read them from storage.</summary>
    public Task<JsonObject> StoredSecretsAsync() => HostSecretsBlob.ReadAsync(HostId);
}

/// <summary>Reads <c>azure-webjobs-secrets/{hostId}/host.json</c> from the test storage account.</summary>
public static class HostSecretsBlob
{
    public static async Task<JsonObject> ReadAsync(string hostId)
    {
        var blob = new Azure.Storage.Blobs.BlobContainerClient(TestStorage.ConnectionString, "azure-webjobs-secrets").GetBlobClient($"{hostId}/host.json");
        return JsonNode.Parse((await blob.DownloadContentAsync()).Value.Content.ToString())!.AsObject();
    }

    /// <summary>The value of the key named <paramref name="name"/> in a key list (<c>functionKeys</c> / <c>systemKeys</c>).</summary>
    public static string KeyValue(JsonObject secrets, string list, string name) =>
        (string)secrets[list]!.AsArray().Single(k => (string?)k!["name"] == name)!["value"]!;
}

/// <summary>A runner with job types registered only for tests (<see cref="ImportHandler"/>).</summary>
public sealed class TestHandlersRunnerFixture : RunnerFixture
{
    protected override void ConfigureServices(IServiceCollection services) => services.AddJobHandler<ImportHandler>().AddJobHandler<LeaseHandler>();
}

/// <summary>A runner that trusts the test client's address (127.0.0.1) as a reverse proxy.</summary>
public sealed class TrustedProxyRunnerFixture : RunnerFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [new("Jobs:Http:TrustedProxies", "127.0.0.1")];
}

/// <summary>The fixture that also serves the job-submissions queue.</summary>
public sealed class QueueRunnerFixture : RunnerFixture
{
    protected override bool QueueTriggers => true;
}

/// <summary>
/// A runner whose <c>[DurableClient]</c> can be told to report an instance as it was earlier (<see cref="StaleStatusDurableClient"/>),
/// with <see cref="EventfulHandler"/>'s type.
/// </summary>
public sealed class StaleStatusRunnerFixture : RunnerFixture
{
    public StaleStatusDurableClient Durable => Services.GetRequiredService<StaleStatusDurableClient>();

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(sp => new StaleStatusDurableClient(sp.GetRequiredService<Jobs.LocalRunner.Durable.DurableEngine>().Client));
        services.AddSingleton<Microsoft.DurableTask.Client.DurableTaskClient>(sp => sp.GetRequiredService<StaleStatusDurableClient>());
        services.AddJobHandler<EventfulHandler>(); // a type that waits for an event, to raise one in the races
    }
}

/// <summary>A runner with settings of the test's choosing, started and stopped by the test itself.</summary>
public sealed class CustomRunner(params (string Key, string? Value)[] settings) : RunnerFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value));
}
