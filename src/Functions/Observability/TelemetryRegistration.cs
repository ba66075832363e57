using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Jobs.Functions.Observability;

/// <summary>
/// OpenTelemetry for both hosts: the <see cref="JobsTelemetry"/> source and meter, exported to whichever of these the
/// settings turn on — the console (<c>Jobs:Telemetry:Console</c> true, as the sample local settings have it), OTLP
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, with the other standard <c>OTEL_*</c> variables) and Application Insights
/// (<c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>: traces, metrics and logs through the Azure Monitor exporter). The
/// settings are read from the host's configuration (local.settings.json under the runner, app settings in Azure), falling
/// back to the environment. Metrics are exported every <c>OTEL_METRIC_EXPORT_INTERVAL</c> ms (60 s by default).
/// </summary>
public static class TelemetryRegistration
{
    public const string ConsoleSetting = "Jobs:Telemetry:Console";
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ApplicationInsightsSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>
    /// The Functions host's setting for Entra ID ingestion (<c>Authorization=AAD[;ClientId=…]</c>), which a component
    /// that refuses key-only telemetry needs (infra/ sets it): the worker's exporter authenticates the same way.
    /// </summary>
    public const string ApplicationInsightsAuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>
    /// The credential <paramref name="authentication"/> asks for: the managed identity (the user-assigned one its
    /// <c>ClientId</c> names, else the system-assigned one) with <c>Authorization=AAD</c>; null without it.
    /// </summary>
    public static Azure.Core.TokenCredential? IngestionCredential(string? authentication)
    {
        var parts = (authentication ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var kind) || !string.Equals(kind, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        return parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0
            ? new Azure.Identity.ManagedIdentityCredential(Azure.Identity.ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new Azure.Identity.ManagedIdentityCredential(Azure.Identity.ManagedIdentityId.SystemAssigned);
    }

    /// <summary>
    /// A job's spans are recorded whenever their parent was not explicitly sampled out upstream: the spans around them in
    /// the process (an ASP.NET Core request nobody listens to, a carried traceparent with no sampling flag) are created
    /// unrecorded, and the SDK's default (parent-based) sampler then dropped every job span — nothing was exported at all.
    /// A remote parent's decision is still honoured.
    /// </summary>
    public static readonly Sampler Sampler = new ParentBasedSampler(new AlwaysOnSampler(), localParentNotSampled: new AlwaysOnSampler());

    public static IServiceCollection AddJobsTelemetry(this IServiceCollection services, IConfiguration? configuration = null)
    {
        string? Setting(string name) =>
            configuration?[name] is { Length: > 0 } value ? value : Environment.GetEnvironmentVariable(name.Replace(":", "__", StringComparison.Ordinal));
        var console = bool.TryParse(Setting(ConsoleSetting), out var on) && on;
        var otlp = !string.IsNullOrWhiteSpace(Setting(OtlpEndpointSetting));
        var applicationInsights = Setting(ApplicationInsightsSetting);
        var ingestionCredential = IngestionCredential(Setting(ApplicationInsightsAuthenticationSetting));
        void AzureMonitor(AzureMonitorExporterOptions options)
        {
            options.ConnectionString = applicationInsights;
            if (ingestionCredential is not null)
            {
                options.Credential = ingestionCredential;
            }
        }

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("jobs"))
            .WithTracing(tracing =>
            {
                tracing.AddSource(JobsTelemetry.Name);
                if (console)
                {
                    tracing.AddConsoleExporter();
                }
                if (!string.IsNullOrWhiteSpace(applicationInsights))
                {
                    tracing.AddAzureMonitorTraceExporter(AzureMonitor);
                }
                // Last: the Azure Monitor exporter sets a sampler of its own (rate-limited, parent-based), which would drop
                // the job's spans again.
                tracing.SetSampler(Sampler);
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(JobsTelemetry.Name);
                if (console)
                {
                    metrics.AddConsoleExporter();
                }
                if (!string.IsNullOrWhiteSpace(applicationInsights))
                {
                    metrics.AddAzureMonitorMetricExporter(AzureMonitor);
                }
            });
        if (!string.IsNullOrWhiteSpace(applicationInsights))
        {
            telemetry.WithLogging(logging => logging.AddAzureMonitorLogExporter(AzureMonitor));
        }
        if (otlp)
        {
            telemetry.UseOtlpExporter();
        }
        return services;
    }
}
