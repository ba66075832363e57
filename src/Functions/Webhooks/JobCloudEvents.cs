using System.Net.Mime;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Jobs.Functions.Api;
using Jobs.Functions.Model;

namespace Jobs.Functions.Webhooks;

/// <summary>The links a job event carries: the job, its status, its result and its log (absolute when the app knows its address).</summary>
public sealed record JobEventLinks(string Self, string Status, string Result, string Logs);

/// <summary>
/// The <c>data</c> of a job event: the job's status shape (<c>GET /api/jobs/{id}/status</c>) with what a receiver needs
/// to route it (type, owner, correlation id, entity, times) and its links. No input or result: they can be large, and
/// <see cref="JobEventLinks.Result"/> reads the result with the receiver's own credentials.
/// </summary>
public sealed record JobEventData(
    string Id, string Type, string Owner, JobStatus Status, int Progress, string? Step, int StepIndex, int StepCount, string? Message,
    JobError? Error, bool CancelRequested, string? CorrelationId, EntityRef? Entity, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt, DateTimeOffset UpdatedAt, JobEventLinks Links);

/// <summary>
/// Builds a job's status change as a CloudEvents 1.0 structured JSON document — the one body of both a webhook delivery
/// and a <c>job-events</c> message. <c>id</c> is <c>{job id}-{change number}</c>, the same however often the change is
/// announced (a receiver de-duplicates by it, or by <c>webhook-id</c>, which is the same); <c>subject</c> is the job id.
/// </summary>
public sealed class JobCloudEvents(PublicUrls urls)
{
    public const string ContentType = "application/cloudevents+json; charset=utf-8";

    /// <summary>The longest message or error message an event carries.</summary>
    public const int MaxTextLength = 2000;

    private static readonly JsonEventFormatter s_formatter = new(JobJson.Options, default);

    public static string EventId(string jobId, int seq) => $"{jobId}-{seq:D9}";

    /// <summary>The id of a <c>job.progress</c> event: the job and the throttle window it falls in (<c>{job id}-p{window}</c>).</summary>
    public static string ProgressEventId(string jobId, long window) => $"{jobId}-p{window}";

    /// <summary>The structured-mode JSON of <paramref name="eventName"/> (a <see cref="WebhookEvents"/> name) for the job's change <paramref name="seq"/>.</summary>
    public ReadOnlyMemory<byte> Encode(Job job, int seq, DateTimeOffset changedAt, string eventName) =>
        Encode(job, EventId(job.Id, seq), changedAt, eventName);

    /// <summary>The structured-mode JSON of <paramref name="eventName"/> with the id <paramref name="id"/> (a progress event's).</summary>
    public ReadOnlyMemory<byte> Encode(Job job, string id, DateTimeOffset changedAt, string eventName)
    {
        var baseUrl = urls.ServiceBaseUrl() ?? "";
        var self = $"{baseUrl}/api/jobs/{job.Id}";
        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0)
        {
            Id = id,
            Source = new Uri(baseUrl + "/api/jobs", UriKind.RelativeOrAbsolute),
            Type = WebhookEvents.CloudEventType(eventName),
            Subject = job.Id,
            Time = changedAt,
            DataContentType = MediaTypeNames.Application.Json,
            Data = new JobEventData(job.Id, job.Type, job.Owner, job.Status, job.Progress, job.Step, job.StepIndex, job.StepCount, Shorten(job.Message),
                job.Error is null ? null : job.Error with { StackTrace = null, Message = Shorten(job.Error.Message)! }, job.CancelRequested, job.CorrelationId, job.Entity,
                job.CreatedAt, job.StartedAt, job.CompletedAt, job.UpdatedAt,
                new JobEventLinks(self, self + "/status", self + "/result", self + "/logs")),
        };
        return s_formatter.EncodeStructuredModeMessage(cloudEvent, out _);
    }

    /// <summary>
    /// Texts are cut to <see cref="MaxTextLength"/> characters, so an event always fits the delivery row that carries it
    /// (a Table property holds 32K characters): a too-large event must never stop a job's change from settling.
    /// </summary>
    private static string? Shorten(string? text) => text is { Length: > MaxTextLength } ? text[..MaxTextLength] : text;

    /// <summary>Reads a document back (for tests and tools): the CloudEvent with its data as a <see cref="JsonElement"/>.</summary>
    public static CloudEvent Decode(ReadOnlyMemory<byte> body) =>
        s_formatter.DecodeStructuredModeMessage(body, new ContentType("application/cloudevents+json"), null);
}
