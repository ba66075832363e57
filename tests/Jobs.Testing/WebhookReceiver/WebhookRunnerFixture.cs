using Jobs.Functions.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Testing;

/// <summary>
/// A runner that may send webhooks to loopback over plain http (<c>Jobs:Webhooks:AllowLoopbackHttp</c>, the local
/// development setting), with a back-off of three 1-second retries so a retried delivery takes seconds, at most
/// <see cref="MaxPerOwner"/> subscriptions per owner, and its storage requests watched (<see cref="Requests"/>).
/// </summary>
public sealed class WebhookRunnerFixture : RunnerFixture
{
    public const int MaxPerOwner = 3;

    /// <summary>Tries of a delivery before it fails: the first and one per retry of the schedule.</summary>
    public const int Tries = 4;

    /// <summary>Injects nothing: the tests use it to count the app's storage requests.</summary>
    public StorageFaults Requests { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Jobs:Webhooks:AllowLoopbackHttp", "true"),
        new("Jobs:Webhooks:RetrySchedule", "00:00:01,00:00:01,00:00:01"),
        new("Jobs:Webhooks:ProgressIntervalSeconds", "1"),
        new("Jobs:Webhooks:MaxPerOwner", MaxPerOwner.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        // Subscriptions are created on this instance, which forgets its cache then: the cache never hides one here.
        new("Jobs:Webhooks:SubscriptionCacheSeconds", "300"),
    ];

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton(new StoragePipelinePolicy(Requests, Azure.Core.HttpPipelinePosition.PerRetry));
}
