using System.Net;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using DurableTask.AzureStorage;
using Jobs.Functions.Api;
using Jobs.Functions.Health;
using Jobs.Functions.Hosting;
using Jobs.Functions.Storage;
using Jobs.LocalRunner.Durable;
using Jobs.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// <c>GET /api/health</c>: over HTTP through the runner (anonymous), and by calling the function class with the real
/// services wired to storage that is down, to a table written with another layout, and to a clock the test moves.
/// </summary>
[Collection(SecondRunnerCollection.Name)]
public sealed class HealthTests(RunnerFixture runner)
{
    private static readonly string DeadStorage = TestStorage.ConnectionStringFor(TestStorage.FreePort(), TestStorage.FreePort(), TestStorage.FreePort());

    private static readonly string[] EveryCheck = [HealthProbe.Tables, HealthProbe.Queues, HealthProbe.Blobs, HealthProbe.TaskHub, HealthProbe.Layout];

    private static ServiceProvider Services(string connection, string prefix, Action<IServiceCollection>? configure = null)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = connection,
                ["Jobs:Storage:MaxRetries"] = "0",
                ["Jobs:Storage:TablePrefix"] = prefix,
                ["Jobs:Storage:ArtifactContainer"] = "exp-" + prefix,
            }).Build())
            .AddJobs();
        configure?.Invoke(services);
        return services.BuildServiceProvider();
    }

    private static AzureStorageDurableTaskClient DeadDurableClient() =>
        new(new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = "deadhub",
            StorageAccountClientProvider = new StorageAccountClientProvider(DeadStorage),
        }), JsonDataConverter.Default, "code=x");

    private static async Task<(int Status, string Body, string? CacheControl)> GetHealthAsync(IServiceProvider services, DurableTaskClient durable)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "GET";
        context.Request.Path = "/api/health";
        context.Response.Body = new MemoryStream();
        var function = ActivatorUtilities.CreateInstance<GetHealthFunction>(services);
        var result = await function.GetHealth(context.Request, durable);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, await new StreamReader(context.Response.Body).ReadToEndAsync(), context.Response.Headers.CacheControl.FirstOrDefault());
    }

    /// <summary>The storage this prefix names, created as the app's start-up does (table with its layout record, queues, container).</summary>
    private static async Task InitializeAsync(IServiceProvider services) =>
        await ActivatorUtilities.CreateInstance<StorageInitializer>(services).StartingAsync(default);

    private static string Prefix() => "hl" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Health_EverythingReachable_Is200WithEveryCheckHealthy_WithoutAKeyOrCaller()
    {
        using var anonymous = runner.Client(null);
        using var response = await anonymous.GetAsync("/api/health");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Equal("healthy", (string?)body["status"]);
        Assert.Equal(EveryCheck.Order(), body["checks"]!.AsObject().Select(c => c.Key).Order());
        Assert.All(body["checks"]!.AsObject(), check => Assert.Equal("healthy", (string?)check.Value));
    }

    [Fact]
    public async Task Health_StorageAndTaskHubDown_Is503NamingEachCheck_AndNoInternals()
    {
        await using var services = Services(DeadStorage, "dead");

        var (status, body, cacheControl) = await GetHealthAsync(services, DeadDurableClient());

        Assert.Equal(503, status);
        Assert.Equal("no-store", cacheControl);
        var report = JsonNode.Parse(body)!;
        Assert.Equal("unhealthy", (string?)report["status"]);
        var checks = report["checks"]!;
        Assert.Equal("unhealthy", (string?)checks[HealthProbe.Tables]);
        Assert.Equal("unhealthy", (string?)checks[HealthProbe.Queues]);
        Assert.Equal("unhealthy", (string?)checks[HealthProbe.Blobs]);
        Assert.Equal("unhealthy", (string?)checks[HealthProbe.TaskHub]);
        Assert.Equal("unknown", (string?)checks[HealthProbe.Layout]);
        foreach (var secret in new[] { "127.0.0.1", "devstoreaccount1", "AccountKey", "Eby8", "Exception", "refused", "deadhub" })
        {
            Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Health_TaskHubDown_StorageUp_Is503WithOnlyTheTaskHubUnhealthy()
    {
        await using var services = Services(TestStorage.ConnectionString, Prefix());
        await InitializeAsync(services);

        var (status, body, _) = await GetHealthAsync(services, DeadDurableClient());

        Assert.Equal(503, status);
        var checks = JsonNode.Parse(body)!["checks"]!.AsObject();
        Assert.Equal([HealthProbe.TaskHub], checks.Where(c => (string?)c.Value != "healthy").Select(c => c.Key));
        Assert.Equal("unhealthy", (string?)checks[HealthProbe.TaskHub]);
    }

    [Fact]
    public async Task Health_TableWrittenWithAnotherLayout_Is503WithTheLayoutUnhealthy()
    {
        var prefix = Prefix();
        await using var services = Services(TestStorage.ConnectionString, prefix);
        await InitializeAsync(services);
        // Another deployment (or an edited setting) recorded other owner buckets in the same table since this one started.
        await services.GetRequiredService<StorageClients>().JobsTable.UpdateEntityAsync(
            new TableEntity("meta", "index-layout") { ["OwnerIndexBuckets"] = 4 }, Azure.ETag.All, TableUpdateMode.Merge);

        var (status, body, _) = await GetHealthAsync(services, runner.Services.GetRequiredService<DurableTaskClient>());

        Assert.Equal(503, status);
        var checks = JsonNode.Parse(body)!["checks"]!.AsObject();
        Assert.Equal([HealthProbe.Layout], checks.Where(c => (string?)c.Value != "healthy").Select(c => c.Key));
    }

    [Fact]
    public async Task Health_CalledOften_ChecksStorageOncePerPeriod()
    {
        var requests = new CountingPolicy();
        var clock = new ManualClock();
        await using var services = Services(TestStorage.ConnectionString, Prefix(), s => s
            .AddSingleton(new StoragePipelinePolicy(requests, HttpPipelinePosition.PerCall))
            .AddSingleton<TimeProvider>(clock));
        await InitializeAsync(services);
        var durable = runner.Services.GetRequiredService<DurableTaskClient>();
        requests.Reset();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(200, (await GetHealthAsync(services, durable)).Status);
        }
        Assert.Equal(3, requests.Count); // one each: the layout record, the queue, the container

        clock.Advance(HealthProbe.Freshness);
        Assert.Equal(200, (await GetHealthAsync(services, durable)).Status);
        Assert.Equal(6, requests.Count);
    }

    private sealed class CountingPolicy : HttpPipelineSynchronousPolicy
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Reset() => Interlocked.Exchange(ref _count, 0);

        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref _count);
    }

    /// <summary>The system clock for timers and dates; elapsed time (what freshness is measured in) moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _timestamp;

        public override long GetTimestamp() => Volatile.Read(ref _timestamp);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _timestamp, (long)(by.TotalSeconds * TimestampFrequency));
    }
}

/// <summary>With function keys required (as in Azure), the health endpoint still answers without one: probes carry no key.</summary>
[Collection(KeyedRunnerCollection.Name)]
public sealed class HealthWithKeysTests(KeyedRunnerFixture runner)
{
    [Fact]
    public async Task Health_KeysRequired_AnswersWithoutAKey_WhileTheApiRefuses()
    {
        using var anonymous = runner.Client(null);

        using var health = await anonymous.GetAsync("/api/health");
        using var types = await anonymous.GetAsync("/api/job-types");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, types.StatusCode);
    }
}
