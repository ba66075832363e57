using Jobs.Functions.Api;
using Jobs.Functions.Artifacts;
using Jobs.Functions.Handlers;
using Jobs.Functions.Health;
using Jobs.Functions.Identity;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Maintenance;
using Jobs.Functions.Metrics;
using Jobs.Functions.Observability;
using Jobs.Functions.Schedules;
using Jobs.Functions.Storage;
using Jobs.Functions.Submissions;
using Jobs.Functions.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Hosting;

/// <summary>
/// Every service the functions use, registered once. Both hosts call this — the Functions worker
/// (<c>Program.cs</c>) and the local runner — so they run the same application code.
/// </summary>
public static class JobsServiceCollectionExtensions
{
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration, where the telemetry exporters' settings are read (without it: the environment).</param>
    public static IServiceCollection AddJobs(this IServiceCollection services, IConfiguration? configuration = null)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddJobsTelemetry(configuration);

        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<IdentityOptions>().BindConfiguration(IdentityOptions.Section);
        services.AddOptions<ReconcilerOptions>().BindConfiguration(ReconcilerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HttpOptions>().BindConfiguration(HttpOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EventStreamOptions>().BindConfiguration(EventStreamOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RaisedEventOptions>().BindConfiguration(RaisedEventOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ArtifactOptions>().BindConfiguration(ArtifactOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ScheduleOptions>().BindConfiguration(ScheduleOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton<StorageRequestCounter>();
        services.AddSingleton<StorageClients>();
        services.AddSingleton(sp => new IndexLayout(sp.GetRequiredService<IOptions<StorageOptions>>()));
        services.AddHostedService<StorageInitializer>();
        services.AddSingleton<JobStore>();
        services.AddSingleton<JobProjector>();
        services.AddSingleton<JobRecordCache>();
        services.AddSingleton<JobListIndex>();
        services.AddSingleton<JobEventInbox>();
        services.AddSingleton<JobCounters>();
        services.AddSingleton<JobMetrics>();
        services.AddSingleton<LiveJobIndex>();
        services.AddSingleton<JobLogStore>();
        services.AddSingleton<ArtifactStore>();
        services.AddSingleton<JobAuditLog>();
        services.AddSingleton<JobChangeFeed>();
        services.AddSingleton<JobPartitionReader>();
        services.AddSingleton<JobEventPublisher>();
        services.AddSingleton<Concurrency.JobSlots>();
        services.AddSingleton(sp => new Lazy<JobHandlerRegistry>(sp.GetRequiredService<JobHandlerRegistry>));

        services.AddSingleton<JobCloudEvents>();
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookHttp>();
        services.AddSingleton<WebhookOutbox>();
        services.AddSingleton<WebhookSubscriptions>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());

        services.AddSingleton<CallerResolver>();
        services.AddSingleton<ApiGuard>();
        services.AddSingleton<PublicUrls>();
        services.AddSingleton<CrossSiteRequests>();
        services.AddSingleton<JobListing>();
        services.AddSingleton<JobEventStream>();
        services.AddSingleton<JobSubmissionService>();
        services.AddSingleton<JobReruns>();
        services.AddSingleton<JobEnding>();
        services.AddSingleton<JobCommands>();
        services.AddSingleton<JobDecisions>();
        services.AddSingleton<JobReconciler>();
        services.AddSingleton<HealthProbe>();
        services.AddSingleton<ScheduleStore>();
        services.AddSingleton<ScheduleService>();
        services.AddSingleton<ScheduleFiring>();

        services.AddJobHandlers();
        return services;
    }
}
