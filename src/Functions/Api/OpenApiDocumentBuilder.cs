using System.Text.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Handlers;
using Jobs.Functions.Health;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Functions.Submissions;

namespace Jobs.Functions.Api;

/// <summary>
/// The shape of the Durable Functions instance status (<c>GET …/instance</c>), as <see cref="DurableStatusPayload"/>
/// writes it: described here so the OpenAPI document can name it (times are whole-second ISO strings, as the
/// extension writes them; input, custom status and output are always there, null when there is none).
/// </summary>
public sealed record DurableInstanceStatus
{
    public required string Name { get; init; }
    public required string InstanceId { get; init; }
    public required string RuntimeStatus { get; init; }
    public required JsonElement? Input { get; init; }
    public required JsonElement? CustomStatus { get; init; }
    public required JsonElement? Output { get; init; }
    public required DateTimeOffset CreatedTime { get; init; }
    public required DateTimeOffset LastUpdatedTime { get; init; }

    /// <summary>With <c>showHistory=true</c> only.</summary>
    public JsonElement? HistoryEvents { get; init; }
}

/// <summary>The body of a purge of a job's durable history.</summary>
public sealed record PurgeResult(int InstancesDeleted);

/// <summary>
/// The OpenAPI 3.1 document of every HTTP route (<c>GET /api/openapi.json</c>). Schemas come from the C# types the API
/// serializes, through System.Text.Json's JSON Schema export with the same options, narrowed to the wire
/// (<see cref="OpenApiSchemas"/>), so the document cannot drift from what is sent; <c>OpenApiTests</c> hold it to the
/// build's <c>functions.metadata</c>, check real responses against it, type-check them against the TypeScript types
/// openapi-typescript generates from it, and lint it with Redocly.
/// </summary>
public static class OpenApiDocumentBuilder
{
    private const string Json = "application/json";
    private const string Problem = "application/problem+json";
    private const string AnyFile = "*/*";

    private sealed record Parameter(string Name, string In, string Description, JsonObject Schema, bool Required = false);

    private sealed record Response(int Status, string Description, string? Schema, string MediaType = Json, bool Problem = false);

    private sealed record Operation(
        string Method, string Route, string OperationId, string Summary, Parameter[] Parameters, string? RequestBody, Response[] Responses,
        bool RequestBodyRequired = true, bool Anonymous = false);

    /// <summary>
    /// The shapes the API writes, by component name, each from its C# type; wherever one of these types appears inside
    /// another, the document has a <c>$ref</c> to its component.
    /// </summary>
    public static IReadOnlyDictionary<string, Type> Components { get; } = new Dictionary<string, Type>
    {
        ["Job"] = typeof(Job),
        ["JobStatus"] = typeof(JobStatus),
        ["JobError"] = typeof(JobError),
        ["EntityRef"] = typeof(EntityRef),
        ["JobLinks"] = typeof(JobLinks),
        ["JobStatusView"] = typeof(JobStatusView),
        ["JobStepRun"] = typeof(JobStepRun),
        ["JobStepItems"] = typeof(JobStepItems),
        ["JobLogPage"] = typeof(JobLogPage),
        ["JobLogLine"] = typeof(JobLogLine),
        ["JobLogLevel"] = typeof(JobLogLevel),
        ["JobAuditPage"] = typeof(JobAuditPage),
        ["JobAuditEntry"] = typeof(JobAuditEntry),
        ["AuditActor"] = typeof(AuditActor),
        ["JobResultView"] = typeof(JobResultView),
        ["JobArtifactList"] = typeof(JobArtifactList),
        ["ArtifactInfo"] = typeof(Artifacts.ArtifactInfo),
        ["JobListView"] = typeof(JobListView),
        ["JobSummary"] = typeof(JobSummary),
        ["Pagination"] = typeof(Pagination),
        ["JobStatsView"] = typeof(JobStatsView),
        ["JobTypeStats"] = typeof(JobTypeStats),
        ["MetricsView"] = typeof(MetricsView),
        ["MetricSeries"] = typeof(MetricSeries),
        ["MetricPoint"] = typeof(MetricPoint),
        ["MetricTotals"] = typeof(MetricTotals),
        ["DurationSummary"] = typeof(DurationSummary),
        ["JobTypeList"] = typeof(JobTypeList),
        ["JobTypeView"] = typeof(JobTypeView),
        ["JobTypeSlotsView"] = typeof(JobTypeSlotsView),
        ["DurableInstanceStatus"] = typeof(DurableInstanceStatus),
        ["PurgeResult"] = typeof(PurgeResult),
        ["InputError"] = typeof(InputError),
        ["ProblemDetails"] = typeof(ProblemBody),
        ["JobResumePoint"] = typeof(JobResumePoint),
        ["JobDecision"] = typeof(JobDecision),
        ["DecisionAnswer"] = typeof(DecisionAnswer),
        ["DecisionTimeoutAction"] = typeof(DecisionTimeoutAction),
        ["BulkFilter"] = typeof(Handlers.BulkFilter),
        ["HealthReport"] = typeof(HealthReport),
        ["Webhook"] = typeof(WebhookView),
        ["WebhookList"] = typeof(WebhookList),
        ["WebhookDelivery"] = typeof(Webhooks.WebhookDelivery),
        ["WebhookDeliveryState"] = typeof(Webhooks.WebhookDeliveryState),
        ["WebhookDeliveryPage"] = typeof(WebhookDeliveryPage),
        ["ScheduleView"] = typeof(ScheduleView),
        ["ScheduleTimeView"] = typeof(ScheduleTimeView),
        ["ScheduleListView"] = typeof(ScheduleListView),
        ["OverlapPolicy"] = typeof(Schedules.OverlapPolicy),
        ["CatchUpPolicy"] = typeof(Schedules.CatchUpPolicy),
    };

    /// <summary>
    /// The bodies the API reads, by component name. <c>CreateJobRequest</c> is <see cref="JobSubmission"/> as HTTP takes
    /// it: the queue's message has an owner too, which HTTP takes from the caller.
    /// </summary>
    public static IReadOnlyDictionary<string, Type> RequestBodies { get; } = new Dictionary<string, Type>
    {
        ["CreateJobRequest"] = typeof(JobSubmission),
        ["DraftPatch"] = typeof(DraftPatch),
        ["SubmitOptions"] = typeof(SubmitOptions),
        ["RerunRequest"] = typeof(RerunRequest),
        ["DecisionRequest"] = typeof(DecisionBody),
        ["BulkRequest"] = typeof(BulkRequest),
        ["CreateWebhookRequest"] = typeof(Webhooks.WebhookSubscriptionRequest),
        ["CreateScheduleRequest"] = typeof(Schedules.ScheduleRequest),
        ["SchedulePatch"] = typeof(Schedules.SchedulePatch),
    };

    private static readonly IReadOnlyDictionary<Type, string> Shared = Components.ToDictionary(c => c.Value, c => c.Key);

    private static Parameter Id => new("id", "path", "The job id (32 lowercase hex characters).",
        new JsonObject { ["type"] = "string", ["pattern"] = "^[0-9a-f]{32}$" }, Required: true);

    private static Parameter WebhookId => new("id", "path", "The subscription id (32 lowercase hex characters).",
        new JsonObject { ["type"] = "string", ["pattern"] = "^[0-9a-f]{32}$" }, Required: true);

    private static Response WebhookNotFound => new(404, "No such subscription, or not the caller's.", "ProblemDetails", Problem, true);
    private static Parameter ScheduleId => new("id", "path", "The schedule id (32 lowercase hex characters).",
        new JsonObject { ["type"] = "string", ["pattern"] = "^[0-9a-f]{32}$" }, Required: true);

    private static Response ScheduleNotFound => new(404, "No such schedule, or not the caller's.", "ProblemDetails", Problem, true);

    private static Parameter Query(string name, string description, string type = "string") =>
        new(name, "query", description, new JsonObject { ["type"] = type });

    private static readonly Parameter[] ListFilters =
    [
        Query("status", $"Statuses to include; repeat or comma-separate ({JobStatusExtensions.WireNames}); at most {JobListLimits.MaxFilterValues} values."),
        Query("type", $"Job types to include (known types only, as GET /api/job-types lists them); repeat or comma-separate; at most {JobListLimits.MaxFilterValues} values. Ordered by type or status, a page may cost at most {JobListLimits.MaxStorageQueries} storage queries (partitions × values): beyond, a 400 naming the parameter."),
        Query("createdFrom", "Created at or after (ISO-8601); a page with a creation window has no total."),
        Query("createdTo", "Created at or before (ISO-8601)."),
        Query("limit", "Jobs per page, 1–100 (default 50).", "integer"),
        Query("next", "The opaque cursor of the previous page's pagination.next (a page can be short, even empty, and still have one: follow it until it is null)."),
        Query("offset", "Rows to skip, 0–10,000 (each is read; prefer next).", "integer"),
        Query("orderBy", "createdAt (default), updatedAt, type or status."),
        Query("order", "desc (default) or asc."),
        Query("owner", "Another owner's jobs (admins only)."),
        Query("correlationId", "Only jobs created with this correlation id (exact match); such a page has no total."),
    ];

    private static readonly Response[] Errors =
    [
        new(400, "Bad input: the problem names the field.", "ProblemDetails", Problem, true),
        new(401, "No signed-in caller.", "ProblemDetails", Problem, true),
        new(503, "Storage cannot be reached; retry (Retry-After).", "ProblemDetails", Problem, true),
    ];

    /// <summary>What every state change may also answer (<see cref="CrossSiteRequests"/>).</summary>
    private static readonly Response[] StateChangeErrors =
    [
        new(403, "Cross-site request refused: sent from another site's page (Sec-Fetch-Site / Origin), not in Jobs:Http:AllowedOrigins.", "ProblemDetails", Problem, true),
        new(415, "A body that is not application/json (Content-Type missing or another type).", "ProblemDetails", Problem, true),
    ];

    private static Response NotFound => new(404, "No such job, or not the caller's.", "ProblemDetails", Problem, true);

    private static Parameter JobTypeName => new("type", "path", "The job type (GET /api/job-types).", new JsonObject { ["type"] = "string" }, Required: true);

    private static Response ForbiddenNotAdmin => new(403, "Not an admin.", "ProblemDetails", Problem, true);

    private static Response UnknownType => new(404, "No such job type (the problem names type).", "ProblemDetails", Problem, true);

    private static Response Conflict(string when) => new(409, when, "ProblemDetails", Problem, true);

    private static readonly Operation[] Operations =
    [
        new("post", "jobs", "CreateJob", "Create a job (202 with its status URL); Idempotency-Key honoured.",
            [new("Idempotency-Key", "header", "The same key and body from the same owner return the same job (Idempotent-Replayed: true); the key with another body is a 422. Keys starting with queue: are reserved (keys made from queue message ids).", new JsonObject { ["type"] = "string" })],
            "CreateJobRequest", [new(202, "Accepted: the job and its management URLs.", "Job"), new(201, "A draft, stored and not started.", "Job"),
                new(200, "Replayed: the job this idempotency key created.", "Job"), new(413, $"Body too large (input over {SubmissionRules.MaxInputBytes} bytes of JSON is a 400 naming input).", "ProblemDetails", Problem, true),
                new(422, "The idempotency key was used for a different request: nothing created; the problem names the key.", "ProblemDetails", Problem, true)]),
        new("get", "jobs", "ListJobs", "List jobs (the caller's; admins: all), filtered, ordered and paged by cursor.",
            [.. ListFilters, Query("entityType", "With entityId: the jobs of one entity."), Query("entityId", "With entityType."),
             Query("scheduleId", "The runs of one recurring schedule (its entity schedule/{id}); not with entityType/entityId."),
             Query("idPrefix", "The jobs whose id starts with these 1–31 hex digits, newest first, at most 20 (limit may ask for fewer); one page, no total; only with owner and limit."),
             Query("tag", "Only jobs with every one of these tags (name or name:value, exact match); repeat or comma-separate; at most 10; not with entityType/entityId. One tag's page has a total; several tags' has one when the rarest has at most 1,000 jobs in reach.")], null,
            [new(200, "A page.", "JobListView"), new(403, "Another owner's jobs, not an admin.", "ProblemDetails", Problem, true)]),
        new("get", "jobs/stats", "GetJobStats", "Counts by status and type for the caller's scope (admins: all, or one owner). consistency: immediate (an owner's: they agree with the listing at once) or periodic (all jobs: summed by the reconciler, up to one period behind).",
            [Query("owner", "One owner's counts (admins only).")], null,
            [new(200, "The counts.", "JobStatsView"), new(403, "Another owner's counts, not an admin.", "ProblemDetails", Problem, true)]),
        new("get", "metrics", "GetMetrics",
            $"Jobs created, started and ended each way, queue wait and duration percentiles (p50, p95 from fixed buckets), per job type and per minute or hour, for the caller's scope (admins: all, or one owner), rolled up from the jobs' changes by the reconciler (consistency: periodic). At most {GetMetricsFunction.MaxPoints} slots a request; roll-ups are kept Jobs:Metrics:KeepDays (30) days.",
            [.. GetMetricsFunction.Parameters.Select(p => Query(p.Key, p.Value))], null,
            [new(200, "The series.", "MetricsView"), new(403, "Another owner's metrics, not an admin.", "ProblemDetails", Problem, true)]),
        new("get", "jobs/{id}", "GetJob", "The whole job.", [Id], null, [new(200, "The job.", "Job"), NotFound]),
        new("patch", "jobs/{id}", "UpdateDraft", $"Edit a draft's input (at most {SubmissionRules.MaxInputBytes} bytes of JSON, as on creation) or correlation id.", [Id], "DraftPatch",
            [new(200, "The draft.", "Job"), NotFound, Conflict("Not a draft.")]),
        new("get", "jobs/{id}/status", "GetJobStatus", "The small polling shape.", [Id], null, [new(200, "The status.", "JobStatusView"), NotFound]),
        new("get", "jobs/{id}/logs", "GetJobLogs", "Log lines oldest first, with a cursor to tail.",
            [Id, Query("after", "The cursor of the last line read."), Query("limit", "Lines, 1–1000 (default 100).", "integer")], null,
            [new(200, "A page of lines.", "JobLogPage"), NotFound]),
        new("get", "jobs/{id}/audit", "GetJobAudit",
            $"The job's audit trail oldest first: who (a user's principal id, name, identity provider and client address, or a part of the service) did what ({string.Join(", ", AuditActions.All.Where(a => a != AuditActions.Deleted))}) and when, each entry written with the change it describes. Same access as the job.",
            [Id, Query("after", "The cursor of the last entry read."), Query("limit", "Entries, 1–1000 (default 100).", "integer")], null,
            [new(200, "A page of entries.", "JobAuditPage"), NotFound]),
        new("get", "jobs/{id}/result", "GetJobResult", "The result (or error) of an ended job.", [Id], null,
            [new(200, "The outcome.", "JobResultView"), NotFound, Conflict("The job has not ended.")]),
        new("get", "jobs/{id}/artifacts", "ListJobArtifacts",
            "The job's artifacts — files its steps wrote, and its result when too large to keep inline (result.json; the result then links to it and metadata.resultArtifact names it) — by name, with size, content type and download link. Same access as the job.",
            [Id], null, [new(200, "The artifacts.", "JobArtifactList"), NotFound]),
        new("get", "jobs/{id}/artifacts/{name}", "GetJobArtifact",
            "Download one artifact, streamed, with its Content-Type, Content-Length and Content-Disposition (attachment); one byte range (Range: bytes=a-b or bytes=a-) answers 206. Same access as the job.",
            [Id, new("name", "path", "The artifact's name: 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit, no '..'.",
                new JsonObject { ["type"] = "string", ["pattern"] = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$" }, Required: true),
             new("Range", "header", "One byte range, e.g. bytes=0-1023.", new JsonObject { ["type"] = "string" })], null,
            [new(200, "The artifact.", null, AnyFile), new(206, "The byte range asked for.", null, AnyFile),
             new(404, "No such job or artifact, or not the caller's.", "ProblemDetails", Problem, true),
             new(416, "The range is outside the artifact.", "ProblemDetails", Problem, true)]),
        new("get", "jobs/{id}/events", "GetJobEvents",
            "The job as Server-Sent Events: `status` (JobStatusView's fields and the job's startedAt, completedAt, attempt, totalAttempts and steps, as on Job), `log` (JobLogLine) and `end` (as `status`, then the stream closes); every event has an id, and Last-Event-ID resumes after it.",
            [Id, new("Last-Event-ID", "header", "Resume after this event.", new JsonObject { ["type"] = "string" })], null,
            [new(200, "The event stream.", null, "text/event-stream"), new(204, "Resumed after the end: nothing more will come.", null),
                NotFound, new(429, "Too many open streams for this caller.", "ProblemDetails", Problem, true)]),
        new("post", "jobs/{id}/cancel", "CancelJob", "Cancel: at once when not started, at the next step boundary when running.", [Id], null,
            [new(200, "Cancelled now.", "Job"), new(202, "Cancel requested.", "Job"), NotFound, Conflict("Already ended.")]),
        new("put", "jobs/{id}/cancel", "CancelJob", "Cancel (as POST).", [Id], null,
            [new(200, "Cancelled now.", "Job"), new(202, "Cancel requested.", "Job"), NotFound, Conflict("Already ended.")]),
        new("post", "jobs/{id}/submit", "SubmitDraft", "Validate a draft and start it (optionally at notBefore).", [Id], "SubmitOptions",
            [new(202, "Submitted.", "Job"), NotFound, Conflict("Not a draft.")], RequestBodyRequired: false),
        new("post", "jobs/{id}/rerun", "RerunJob",
            "Run an ended job again as a new job linked to it (rerunOf / rerunBy): from the start, optionally with a new input, or with from = failed-step at the step a failed job failed at, handed the output the step before returned.",
            [Id, new("Idempotency-Key", "header", "The same key from the same owner returns the same rerun.", new JsonObject { ["type"] = "string" })], "RerunRequest",
            [new(202, "Accepted: the new job.", "Job"), NotFound,
             Conflict("The job has not ended, or it cannot be resumed (no failed step, outputs not kept, a type that is not resumable): the problem names the field.")],
            RequestBodyRequired: false),
        new("post", "jobs/{id}/decisions/{name}", "DecideJob",
            $"Answer the decision a waiting job asks (its decision: name, question, role, timeoutAt): decision approve or reject, an optional comment (at most {JobDecision.MaxCommentChars} characters) and payload (a JSON object of at most {JobDecision.MaxPayloadBytes} bytes) that the decided step receives. Allowed to the job's owner, admins, and callers with the decision's role; who decided is in the audit trail. The job runs on at once.",
            [Id, new("name", "path", "The decision's name (the job's decision.name).", new JsonObject { ["type"] = "string", ["pattern"] = "^[a-z0-9][a-z0-9_.-]{0,63}$" }, Required: true)], "DecisionRequest",
            [new(200, "Answered: the job, running on.", "Job"), NotFound,
             Conflict("The job does not wait for that decision: it waits for another, it was answered or timed out already, or it is not waiting (the problem names name).")]),
        new("post", "jobs/bulk", "BulkJobs",
            "Cancel, rerun or delete many jobs — named by ids (1–500) or matched by the list's filters (up to 10,000) — as a tracked jobs.bulk job whose result counts what was done and what was skipped, and why.",
            [new("Idempotency-Key", "header", "The same key from the same owner returns the same bulk job.", new JsonObject { ["type"] = "string" })], "BulkRequest",
            [new(202, "Accepted: the bulk job.", "Job")]),
        new("get", "job-types", "ListJobTypes", "Every job type: steps, timeout, input schema, static metadata, concurrency limits, default priority, and whether it is paused.", [], null,
            [new(200, "The types.", "JobTypeList")]),
        new("post", "job-types/{type}/pause", "PauseJobType",
            "Pause a job type (admins): it still accepts jobs, which wait queued (\"type paused\"), and starts none; its running jobs finish. Idempotent.",
            [JobTypeName], null, [new(200, "Paused: the type's slots.", "JobTypeSlotsView"), ForbiddenNotAdmin, UnknownType]),
        new("post", "job-types/{type}/resume", "ResumeJobType",
            "Resume a paused job type (admins): its queued jobs start as its concurrency limits allow, in priority then arrival order. Idempotent.",
            [JobTypeName], null, [new(200, "Resumed: the type's slots.", "JobTypeSlotsView"), ForbiddenNotAdmin, UnknownType]),
        new("get", "entities/{type}/{id}/jobs", "ListEntityJobs", "The jobs of one entity (same filters and paging).",
            [new("type", "path", "The entity type.", new JsonObject { ["type"] = "string" }, Required: true),
             new("id", "path", "The entity id.", new JsonObject { ["type"] = "string" }, Required: true), .. ListFilters], null,
            [new(200, "A page.", "JobListView")]),
        new("get", "jobs/{id}/instance", "GetJobInstance", "The job's Durable Functions instance status (the statusQueryGetUri).",
            [Id, Query("showHistory", "Include the history.", "boolean"), Query("showHistoryOutput", "With outputs.", "boolean"), Query("showInput", "Include the input (default true).", "boolean")], null,
            [new(200, "The instance has ended.", "DurableInstanceStatus"), new(202, "The instance runs (Location, Retry-After).", "DurableInstanceStatus"), NotFound]),
        new("delete", "jobs/{id}/instance", "PurgeJobInstance", "Purge the durable history of an ended job (the job record stays).", [Id], null,
            [new(200, "Purged.", "PurgeResult"), NotFound]),
        new("post", "jobs/{id}/instance/terminate", "TerminateJobInstance", "Terminate the orchestration (the job ends cancelled).",
            [Id, Query("reason", "Why.")], null, [new(202, "Terminating.", null), NotFound, new(410, "Already ended.", null)]),
        new("post", "jobs/{id}/instance/raiseEvent/{eventName}", "RaiseJobInstanceEvent",
            $"Raise an event the job's type waits for (GET /api/job-types lists them as events) to the orchestration; a JSON payload of at most {new RaisedEventOptions().MaxPayloadBytes} bytes by default ({RaisedEventOptions.Section}:MaxPayloadBytes), at most {new RaisedEventOptions().MaxPendingPerJob} raised and not yet consumed per job by default (MaxPendingPerJob).",
            [Id, new("eventName", "path", "The event name.", new JsonObject { ["type"] = "string" }, Required: true)], null,
            [new(202, "Raised.", null), new(404, "No such job, or not the caller's, or an event its type does not wait for (the problem names eventName).", "ProblemDetails", Problem, true),
                new(409, "The job has as many raised events waiting to be consumed as it may (the problem names eventName).", "ProblemDetails", Problem, true),
                new(410, "Already ended.", null), new(413, "Payload too large (the problem names body).", "ProblemDetails", Problem, true)]),
        new("post", "webhooks", "CreateWebhook",
            $"Subscribe a URL to job events ({string.Join(", ", Webhooks.WebhookEvents.All)}) of the caller's jobs (allJobs: every owner's, admins only), optionally of some job types. Each event is POSTed as a CloudEvents 1.0 structured JSON document signed as Standard Webhooks says (webhook-id, webhook-timestamp, webhook-signature), with the secret returned here once. https only; private, loopback, link-local and metadata addresses are refused. At most {new Webhooks.WebhookOptions().MaxPerOwner} subscriptions per owner by default.",
            [], "CreateWebhookRequest",
            [new(201, "Created: the subscription and its secret (shown this once).", "Webhook"),
             new(403, "allJobs without the admin role (the problem names allJobs), or a cross-site request.", "ProblemDetails", Problem, true),
             Conflict("The owner has as many subscriptions as allowed (the problem names webhooks): nothing stored."),
             new(413, "Body too large.", "ProblemDetails", Problem, true)]),
        new("get", "webhooks", "ListWebhooks", "The caller's subscriptions (no secrets).", [], null, [new(200, "The subscriptions.", "WebhookList")]),
        new("get", "webhooks/{id}", "GetWebhook", "One subscription (no secret); disabled ones say why.", [WebhookId], null,
            [new(200, "The subscription.", "Webhook"), WebhookNotFound]),
        new("delete", "webhooks/{id}", "DeleteWebhook", "Delete a subscription: nothing more is sent to it.", [WebhookId], null,
            [new(204, "Deleted.", null), WebhookNotFound]),
        new("get", "webhooks/{id}/deliveries", "ListWebhookDeliveries",
            "The delivery log, newest first: per event, its state (pending, delivered, failed), attempts, last response code and up to 1 KB of the response, latency and next try.",
            [WebhookId, Query("limit", $"Deliveries per page, 1–{WebhookFunctions.MaxDeliveriesPage} (default 20).", "integer"), Query("after", "The next of the previous page.")], null,
            [new(200, "A page of deliveries.", "WebhookDeliveryPage"), WebhookNotFound]),
        new("post", "webhooks/{id}/deliveries/{deliveryId}/retry", "RetryWebhookDelivery",
            "Try a delivery again now, whatever its state (the same event, the same webhook-id).",
            [WebhookId, new("deliveryId", "path", "The delivery id, as the log lists it.", new JsonObject { ["type"] = "string" }, Required: true)], null,
            [new(202, "Due now.", "WebhookDelivery"), new(404, "No such subscription or delivery.", "ProblemDetails", Problem, true),
             Conflict("The subscription is disabled, or the delivery changed meanwhile.")]),
        new("post", "schedules", "CreateSchedule",
            "Create a recurring schedule: a job type and input, run at each occurrence of a cron expression (5 fields, or 6 with seconds first) in an IANA time zone; each run is an ordinary job with scheduleId (idempotency key schedule:{id}:{occurrence}, so an occurrence runs once).",
            [], "CreateScheduleRequest",
            [new(201, "Created (Location: the schedule).", "ScheduleView"), new(409, "The caller has as many schedules as one owner may (Jobs:Schedules:MaxPerOwner).", "ProblemDetails", Problem, true)]),
        new("get", "schedules", "ListSchedules", "The caller's schedules (admins: everyone's, or one owner's), paged by cursor.",
            [Query("owner", "One owner's schedules (admins only)."), Query("limit", "Schedules per page, 1–100 (default 50).", "integer"), Query("next", "The opaque cursor of the previous page.")], null,
            [new(200, "A page.", "ScheduleListView"), new(403, "Another owner's schedules, not an admin.", "ProblemDetails", Problem, true)]),
        new("get", "schedules/{id}", "GetSchedule", "The schedule, its next five times and its most recent runs.", [ScheduleId], null,
            [new(200, "The schedule.", "ScheduleView"), ScheduleNotFound]),
        new("patch", "schedules/{id}", "UpdateSchedule",
            "Change a schedule; paused: true pauses it, false resumes it from the next occurrence after now (a pause's occurrences are not caught up).",
            [ScheduleId], "SchedulePatch", [new(200, "The schedule.", "ScheduleView"), ScheduleNotFound, Conflict("It kept changing meanwhile; try again.")]),
        new("delete", "schedules/{id}", "DeleteSchedule", "Remove a schedule (its runs stay, as ordinary jobs).", [ScheduleId], null,
            [new(204, "Removed.", null), ScheduleNotFound]),
        new("get", "health", "GetHealth", "Whether storage (tables, queues, blobs), the task hub and the list layout answer; anonymous, for probes and load balancers. Checked at most once per 5 s per instance.", [], null,
            [new(200, "Healthy.", "HealthReport"), new(503, "A check failed (each check says healthy, unhealthy or unknown; the reason is in the app's log).", "HealthReport")],
            Anonymous: true),
    ];

    /// <summary>The document, with <paramref name="serverUrl"/> (the request's public base URL) as its server.</summary>
    public static JsonObject Build(string serverUrl)
    {
        var paths = new JsonObject();
        foreach (var group in Operations.GroupBy(o => o.Route))
        {
            var item = new JsonObject();
            foreach (var operation in group)
            {
                item[operation.Method] = Describe(operation, group.Count(o => o.OperationId == operation.OperationId) > 1);
            }
            paths["/" + group.Key] = item;
        }
        var schemas = new JsonObject();
        foreach (var (name, type) in Components)
        {
            schemas[name] = Schema(type);
        }
        foreach (var (name, type) in RequestBodies)
        {
            schemas[name] = OpenApiSchemas.Request(type, Shared);
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject
            {
                ["title"] = "Jobs",
                ["version"] = "1.0",
                ["description"] = "Long-running jobs as durable orchestrations: create, watch, list, cancel, rerun. Identity: App Service Authentication (x-ms-client-principal); function keys (x-functions-key or ?code=).",
                ["license"] = new JsonObject { ["name"] = "MIT", ["identifier"] = "MIT" },
            },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = serverUrl }),
            ["security"] = new JsonArray(new JsonObject { ["functionKey"] = new JsonArray() }, new JsonObject { ["functionKeyQuery"] = new JsonArray() }),
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["schemas"] = schemas,
                ["securitySchemes"] = new JsonObject
                {
                    ["functionKey"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = "x-functions-key" },
                    ["functionKeyQuery"] = new JsonObject { ["type"] = "apiKey", ["in"] = "query", ["name"] = "code" },
                },
            },
        };
    }

    /// <summary>The schema of a component: the type's; a job as served also carries its management URLs.</summary>
    private static JsonObject Schema(Type type)
    {
        var schema = OpenApiSchemas.Response(type, Shared);
        if (type == typeof(Job))
        {
            // JobRepresentation.Full: the links' URLs beside the record's fields, and an admin's native ones apart.
            var properties = schema["properties"]!.AsObject();
            var required = schema["required"]!.AsArray();
            var links = OpenApiSchemas.Response(typeof(JobLinks), Shared);
            foreach (var (property, value) in links["properties"]!.AsObject())
            {
                if (!properties.ContainsKey(property))
                {
                    properties[property] = value!.DeepClone();
                    required.Add(property);
                }
            }
            properties["nativeManagementUrls"] = OpenApiSchemas.Ref("JobLinks");
            properties["queuePosition"] = QueuePositionSchema(
                "A queued job's place in line (1: next to start), among the waiting jobs of its type that count against the same limit; absent otherwise.");
        }
        else if (type == typeof(JobSummary))
        {
            // A list row's place in line: the same number as the job's own, from one read of the head of its type's queue.
            schema["properties"]!.AsObject()["queuePosition"] = QueuePositionSchema(
                "A queued job's place in line, as GET /api/jobs/{id} gives it; absent for other statuses, and for a job further back than "
                + $"the first {Concurrency.JobSlots.MaxQueueRead} waiting jobs of its type (the one read a list page makes per type).");
        }
        else if (type == typeof(Pagination))
        {
            // A page's storage cost is bounded (docs/storage.md): a scanning filter can end a page short, even empty, with a next.
            schema["properties"]!.AsObject()["next"]!.AsObject()["description"] =
                "The opaque cursor of the next page; null on the last page. A page can hold fewer rows than limit, even none, and still "
                + "have a next (a filter storage scans for stops after a bounded number of requests): follow next until it is null.";
        }
        return schema;
    }

    private static JsonObject QueuePositionSchema(string description) => new()
    {
        ["type"] = "integer",
        ["format"] = "int32",
        ["minimum"] = 1,
        ["description"] = description,
    };

    private static JsonObject Describe(Operation operation, bool sharedId)
    {
        var node = new JsonObject
        {
            ["operationId"] = sharedId ? operation.OperationId + char.ToUpperInvariant(operation.Method[0]) + operation.Method[1..] : operation.OperationId,
            ["summary"] = operation.Summary,
        };
        if (operation.Parameters.Length > 0)
        {
            node["parameters"] = new JsonArray([.. operation.Parameters.Select(p => (JsonNode)new JsonObject
            {
                ["name"] = p.Name,
                ["in"] = p.In,
                ["description"] = p.Description,
                ["required"] = p.Required,
                ["schema"] = p.Schema.DeepClone(),
            })]);
        }
        if (operation.RequestBody is { } body)
        {
            node["requestBody"] = new JsonObject
            {
                ["required"] = operation.RequestBodyRequired,
                ["content"] = new JsonObject { [Json] = new JsonObject { ["schema"] = Ref(body) } },
            };
        }
        if (operation.Anonymous)
        {
            node["security"] = new JsonArray(); // no key: overrides the document's default
        }
        var responses = new JsonObject();
        var changesState = operation.Method is "post" or "put" or "patch" or "delete";
        var errors = operation.Anonymous ? [] : Errors.Concat(changesState ? StateChangeErrors : []);
        foreach (var response in operation.Responses.Concat(errors).DistinctBy(r => r.Status))
        {
            var described = new JsonObject { ["description"] = response.Description };
            if (response.MediaType == "text/event-stream")
            {
                described["content"] = new JsonObject { [response.MediaType] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string" } } };
            }
            else if (response.MediaType == AnyFile)
            {
                described["content"] = new JsonObject { [response.MediaType] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string", ["format"] = "binary" } } };
            }
            else if (response.Schema is { } schema)
            {
                described["content"] = new JsonObject { [response.MediaType] = new JsonObject { ["schema"] = Ref(schema) } };
            }
            responses[response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = described;
        }
        node["responses"] = responses;
        return node;
    }

    private static JsonObject Ref(string component) => OpenApiSchemas.Ref(component);
}
