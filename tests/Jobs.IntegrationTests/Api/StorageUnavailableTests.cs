using System.Text;
using System.Text.Json.Nodes;
using DurableTask.AzureStorage;
using Jobs.Functions.Api;
using Jobs.Functions.Hosting;
using Jobs.Functions.Identity;
using Jobs.Functions.Storage;
using Jobs.LocalRunner.Durable;
using Jobs.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Converters;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// Unreachable storage is a 503 with Retry-After and nothing half-written. These call the real function class
/// with the real services, wired to storage that is down (a closed port) — the case a host cannot stage.
/// </summary>
[TakesAbout(22)]
public sealed class StorageUnavailableTests
{
    private static readonly string DeadStorage = TestStorage.ConnectionStringFor(TestStorage.FreePort(), TestStorage.FreePort(), TestStorage.FreePort());

    private static ServiceProvider Services(string tablesConnection, string prefix) =>
        new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = tablesConnection,
                ["Jobs:Storage:MaxRetries"] = "0",
                ["Jobs:Storage:TablePrefix"] = prefix,
                ["Jobs:Identity:TrustClientPrincipal"] = "true",
                // The app's own address, which the platform (Azure, Core Tools, the runner) sets and links are built from.
                ["WEBSITE_HOSTNAME"] = "localhost:7071",
            }).Build())
            .AddJobs()
            .BuildServiceProvider();

    private static AzureStorageDurableTaskClient DeadDurableClient() =>
        new(new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = "deadhub",
            StorageAccountClientProvider = new StorageAccountClientProvider(DeadStorage),
        }), JsonDataConverter.Default, "code=x");

    private static async Task<(int Status, string Body, string? RetryAfter)> CreateAsync(IServiceProvider services, Microsoft.DurableTask.Client.DurableTaskClient durable, string owner, string? idempotencyKey = null)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "POST";
        context.Request.Path = "/api/jobs";
        context.Request.ContentType = "application/json";
        context.Request.Headers[CallerResolver.PrincipalHeader] = Principals.Header(owner);
        if (idempotencyKey is not null)
        {
            context.Request.Headers["Idempotency-Key"] = idempotencyKey;
        }
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes("""{"type":"demo.steps","input":{"steps":1}}"""));
        context.Response.Body = new MemoryStream();
        var function = ActivatorUtilities.CreateInstance<CreateJobFunction>(services);
        var result = await function.CreateJob(context.Request, durable);
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, await new StreamReader(context.Response.Body).ReadToEndAsync(), context.Response.Headers.RetryAfter.FirstOrDefault());
    }

    [Fact]
    public async Task StorageDown_Create_Is503WithRetryAfter_AndNoInternals()
    {
        await using var services = Services(DeadStorage, "dead");
        var (status, body, retryAfter) = await CreateAsync(services, DeadDurableClient(), "someone");

        Assert.Equal(503, status);
        Assert.Equal("5", retryAfter);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal("Service unavailable", (string?)problem["title"]);
        Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SchedulingDown_Create_IsAccepted_RecordedListedAndFindableByTheReconciler()
    {
        // The record is the acceptance: once it is written, a durable backend that is down does not make the answer
        // a lie. The job is pending, listed and in the live-job index, where the reconciler starts it (see
        // FaultInjectionTests.PendingJobWithoutOrchestration_IsStartedByTheReconciler).
        var prefix = "u" + Guid.NewGuid().ToString("N")[..10];
        await using var services = Services(TestStorage.ConnectionString, prefix);
        var clients = services.GetRequiredService<StorageClients>();
        await clients.JobsTable.CreateIfNotExistsAsync();
        var owner = "half-" + Guid.NewGuid().ToString("N")[..6];

        var (status, body, _) = await CreateAsync(services, DeadDurableClient(), owner, idempotencyKey: "k-1");

        Assert.Equal(202, status);
        var id = (string)JsonNode.Parse(body)!["id"]!;
        var job = await services.GetRequiredService<JobStore>().GetAsync(id, default);
        Assert.Equal(Jobs.Functions.Model.JobStatus.Pending, job!.Status);
        Assert.Empty((await services.GetRequiredService<JobStore>().ReadAsync(id, default))!.Unsettled);
        var live = await services.GetRequiredService<LiveJobIndex>().ReadAsync(null, 10, default);
        Assert.Equal([id], live.Select(r => r.JobId));
        var page = await services.GetRequiredService<JobListIndex>().ListAsync(new JobListQuery { Scope = new JobListScope.Owner(owner) }, default);
        Assert.Equal([id], page.Jobs.Select(j => j.Id));
    }
}
