using Jobs.Functions.Handlers;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// A runner whose own storage clients go through <see cref="StorageFaults"/>, with the storage client's retries off
/// (so every injected fault reaches the app's code) and the sweep/reconciler running every second with a 1 s grace.
/// The durable engine's storage is not faulted: these tests are about the app's own bookkeeping. The runner restarts as
/// the host does (its default), and a restarted step's work item comes back after 30 s (a test override of the
/// extension's 5 minutes), so a test can restart the host at a fault and see the step run again.
/// </summary>
public sealed class FaultRunnerFixture : RunnerFixture
{
    public StorageFaults Faults { get; } = new();

    protected override bool TimerTriggers => true;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Jobs:Storage:MaxRetries", "0"),
        new("Jobs:Runner:Schedules:SweepTimedOutJobs", "*/1 * * * * *"),
        new("Jobs:Reconciler:GraceSeconds", "1"),
        new("Jobs:Runner:TestOverrides:WorkItemVisibilityTimeout", "00:00:30"),
        new("Jobs:Runner:TestOverrides:ControlQueueVisibilityTimeout", "00:00:30"),
        // Retention would race the assertions; it has tests of its own.
        new("AzureWebJobs.PurgeOldJobs.Disabled", "true"),
    ];

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(new StoragePipelinePolicy(Faults, Azure.Core.HttpPipelinePosition.PerRetry));
        services.AddJobHandler<ChattyHandler>();
    }

    public string JobsTable => TablePrefix + "Jobs";

    public string MetricsTable => TablePrefix + "JobMetrics";

}

[CollectionDefinition(Name)]
[TakesAbout(70)]
public sealed class FaultRunnerCollection : ICollectionFixture<FaultRunnerFixture>
{
    public const string Name = "fault-runner";
}

/// <summary>
/// A second <see cref="FaultRunnerFixture"/> (xunit makes one per collection): the host-restart cases wait out a
/// visibility timeout each, and run here beside the fault runner's other tests.
/// </summary>
[CollectionDefinition(Name)]
[TakesAbout(130)]
public sealed class FaultRestartRunnerCollection : ICollectionFixture<FaultRunnerFixture>
{
    public const string Name = "fault-restart-runner";
}
