using System.Diagnostics;
using System.Diagnostics.Metrics;
using Jobs.Functions.Model;

namespace Jobs.Functions.Observability;

/// <summary>
/// The service's traces and metrics (OpenTelemetry through System.Diagnostics): a <c>job.create</c> span where a job is
/// accepted, then a <c>job.step</c> span per step attempt and a <c>job.finish</c> span — all in the trace of the request
/// (or queue message) that created the job: its W3C <c>traceparent</c> is kept in the orchestration's input and every
/// activity request, so the context crosses the durable boundary whatever the engine does. Spans carry the job id, type
/// and correlation id. Metrics: jobs started (by type), jobs ended (by type and status), step duration.
/// </summary>
public static class JobsTelemetry
{
    public const string Name = "Jobs";

    public static readonly ActivitySource Source = new(Name, "1.0");

    private static readonly Meter Meter = new(Name, "1.0");

    private static readonly Counter<long> Started = Meter.CreateCounter<long>("jobs.started", unit: "{job}", description: "Jobs whose first step started, by type.");

    private static readonly Counter<long> Ended = Meter.CreateCounter<long>("jobs.ended", unit: "{job}", description: "Jobs that ended, by type and status.");

    private static readonly Histogram<double> StepDuration = Meter.CreateHistogram<double>("jobs.step.duration", unit: "ms", description: "How long a step attempt ran, by type, step and outcome.");

    /// <summary>The current span as a W3C <c>traceparent</c>, to be carried through the orchestration (null: no trace).</summary>
    public static string? CurrentTraceParent => Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>The span of accepting a job (the HTTP request's or the queue message's span is its parent).</summary>
    public static Activity? StartCreate(string? type, string? correlationId)
    {
        var activity = Source.StartActivity("job.create", ActivityKind.Internal);
        activity?.SetTag("job.type", type);
        activity?.SetTag("job.correlation_id", correlationId);
        return activity;
    }

    /// <summary>A span of the job's orchestration, a child of the create request's span carried as <paramref name="traceParent"/>.</summary>
    public static Activity? StartJobSpan(string name, string? traceParent, Job job)
    {
        var parent = traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;
        var activity = Source.StartActivity(name, ActivityKind.Internal, parent);
        if (activity is not null)
        {
            Tag(activity, job);
        }
        return activity;
    }

    public static void Tag(Activity? activity, Job job)
    {
        activity?.SetTag("job.id", job.Id);
        activity?.SetTag("job.type", job.Type);
        activity?.SetTag("job.correlation_id", job.CorrelationId);
    }

    public static void JobStarted(Job job) => Started.Add(1, new KeyValuePair<string, object?>("job.type", job.Type));

    public static void JobEnded(Job job) =>
        Ended.Add(1, new KeyValuePair<string, object?>("job.type", job.Type), new KeyValuePair<string, object?>("job.status", job.Status.ToWire()));

    public static void StepRan(string type, string step, string outcome, double milliseconds) =>
        StepDuration.Record(milliseconds, new KeyValuePair<string, object?>("job.type", type), new KeyValuePair<string, object?>("job.step", step),
            new KeyValuePair<string, object?>("outcome", outcome));

    public static void Failed(Activity? activity, Exception exception)
    {
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity?.AddException(exception);
    }
}
