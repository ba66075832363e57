using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Jobs.Functions.Handlers;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.RunnerTests;

/// <summary>
/// host.json's functionTimeout, set tiny through the host's own app-setting override
/// (AzureFunctionsJobHost__functionTimeout), ends functions that run too long, as the host does: an HTTP function
/// is answered 500 with no body (the host's ExceptionMiddleware), and an activity attempt fails with the timeout
/// error, so the orchestration's retry and then failure path applies (Azure/azure-functions-durable-extension v3.x,
/// OutOfProcMiddleware.CallActivityAsync turns a failed activity result into TaskFailedEvent).
/// </summary>
[Collection(TimeoutRunnerCollection.Name)]
public sealed class FunctionTimeoutTests(TimeoutRunnerFixture runner)
{
    [Fact]
    public async Task AnHttpFunctionPastTheTimeout_IsAnEmpty500_AndItsWorkIsCancelled()
    {
        using var client = runner.Client("timeout-user");
        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync($"/api/jobs/{TimeoutRunnerFixture.StalledJobId}");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.True(clock.Elapsed >= TimeoutRunnerFixture.Timeout - TimeSpan.FromMilliseconds(100), $"answered after {clock.Elapsed}");
        // The stalled storage read saw the function's cancellation (the request's abort token is the invocation's).
        Assert.True(await runner.Stall.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        using var next = await client.GetAsync("/api/job-types");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task AnActivityPastTheTimeout_FailsItsAttempt_IsRetried_ThenFailsTheJob()
    {
        using var client = runner.Client("timeout-user");
        var created = await RunnerFixture.CreateJobAsync(client, new { type = StallHandler.TypeName });
        var id = (string)created["id"]!;

        var end = await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(90));
        Assert.Equal("failed", (string?)end["status"]);
        var job = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal("Microsoft.Azure.WebJobs.Host.FunctionTimeoutException", (string?)job["error"]!["type"]);
        // The SDK's message, not the logged line (Azure/azure-webjobs-sdk, src/Microsoft.Azure.WebJobs.Host/Executors/
        // FunctionExecutor.cs, TryHandleTimeoutAsync: "Timeout value of {0} was exceeded by function: {1}" with the
        // descriptor's ShortName, which the script host makes "Functions.<name>").
        Assert.Equal("Timeout value of 00:00:03 was exceeded by function: Functions.RunJobStep", (string?)job["error"]!["message"]);
        var lines = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray()
            .Select(l => (string)l!["message"]!).ToList();
        Assert.Contains(lines, l => l.StartsWith("Step stall started (attempt 1)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Step stall started (attempt 2)", StringComparison.Ordinal));
    }
}

/// <summary>A runner whose functionTimeout is 3 seconds, with a storage read and a job type that stall until cancelled.</summary>
public sealed class TimeoutRunnerFixture : RunnerFixture
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public const string StalledJobId = "5a11ed005a11ed005a11ed005a11ed00";

    public StallingStorage Stall { get; } = new(StalledJobId);

    // The stalled storage call ignores its token, so in the restart mode each timeout would restart the worker 2 s
    // later and abort whatever the next test is running (as the host would): these tests are about the timeout's
    // failure, and the worker restart has its own (HostRestartTests), so restarts are off here.
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [new("AzureFunctionsJobHost:functionTimeout", "00:00:03"), new(Jobs.LocalRunner.Restarts.HostRestarter.Setting, "false")];

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(new StoragePipelinePolicy(Stall, HttpPipelinePosition.PerCall));
        services.AddJobHandler<StallHandler>();
    }
}

[CollectionDefinition(Name)]
public sealed class TimeoutRunnerCollection : ICollectionFixture<TimeoutRunnerFixture>
{
    public const string Name = "timeout-runner";
}

/// <summary>Holds every storage request whose URL names <paramref name="marker"/> until its cancellation fires.</summary>
public sealed class StallingStorage(string marker) : HttpPipelinePolicy
{
    public TaskCompletionSource<bool> Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The app's storage calls are asynchronous.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (message.Request.Uri.ToString().Contains(marker, StringComparison.Ordinal))
        {
            try
            {
                await Task.Delay(TimeSpan.FromMinutes(2), message.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                Cancelled.TrySetResult(true);
                throw;
            }
        }
        await ProcessNextAsync(message, pipeline);
    }
}

/// <summary><c>test.stall</c>: one step that waits until it is cancelled, tried twice.</summary>
public sealed class StallHandler : JobHandler<StallInput>
{
    public const string TypeName = "test.stall";

    public override string Type => TypeName;

    protected override StepRetryPolicy DefaultRetry { get; } = new(2, TimeSpan.FromMilliseconds(200));

    protected override IReadOnlyList<JobStep<StallInput>> Steps(StallInput input) =>
        [new("stall", async (_, step) => { await Task.Delay(System.Threading.Timeout.Infinite, step.CancellationToken); return null; })];
}

/// <summary>Input of <see cref="StallHandler"/> (none).</summary>
public sealed record StallInput;
