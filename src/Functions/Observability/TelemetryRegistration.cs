using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Jobs.Functions.Observability;

/// <summary>
/// OpenTelemetry for both hosts: the <see cref="JobsTelemetry"/> source and meter, exported to the console when
/// <c>Jobs:Telemetry:Console</c> is true (the sample local settings) and over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
/// is set (the standard variable; an app setting in Azure).
/// </summary>
public static class TelemetryRegistration
{
    public const string ConsoleSetting = "Jobs:Telemetry:Console";

    public static IServiceCollection AddJobsTelemetry(this IServiceCollection services)
    {
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("jobs"))
            .WithTracing(tracing => tracing.AddSource(JobsTelemetry.Name).AddProcessor(provider => ToConsole(provider)
                ? new SimpleActivityExportProcessor(new ConsoleActivityExporter(new ConsoleExporterOptions()))
                : new NoProcessor()))
            .WithMetrics(metrics => metrics.AddMeter(JobsTelemetry.Name).AddReader(provider =>
                new PeriodicExportingMetricReader(ToConsole(provider) ? new ConsoleMetricExporter(new ConsoleExporterOptions()) : new NoMetricExporter(), 60_000)));
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            telemetry.UseOtlpExporter();
        }
        return services;
    }

    private static bool ToConsole(IServiceProvider provider) => provider.GetService<IConfiguration>()?.GetValue<bool>(ConsoleSetting) == true;

    /// <summary>Console export off: spans go nowhere here (other exporters, OTLP, still get them).</summary>
    private sealed class NoProcessor : BaseProcessor<System.Diagnostics.Activity>;

    private sealed class NoMetricExporter : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }
}
