using System.Text.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Submissions;

namespace Jobs.Functions.Api;

/// <summary>
/// The shape of the Durable Functions instance status (<c>GET …/instance</c>), as <see cref="DurableStatusPayload"/>
/// writes it: described here so the OpenAPI document can name it (times are whole-second ISO strings, as the
/// extension writes them).
/// </summary>
public sealed record DurableInstanceStatus(
    string Name, string InstanceId, string RuntimeStatus, JsonElement? Input, JsonElement? CustomStatus, JsonElement? Output,
    string CreatedTime, string LastUpdatedTime, JsonElement? HistoryEvents);

/// <summary>The body of a purge of a job's durable history.</summary>
public sealed record PurgeResult(int InstancesDeleted);

/// <summary>
/// The OpenAPI 3.1 document of every HTTP route (<c>GET /api/openapi.json</c>). Schemas come from the C# types the API
/// serializes, through System.Text.Json's JSON Schema export with the same options (<see cref="JsonSchemas"/>), so the
/// document cannot drift from the wire; <c>OpenApiTests</c> hold it to the build's <c>functions.metadata</c> and check
/// real responses against it.
/// </summary>
public static class OpenApiDocumentBuilder
{
    private const string Json = "application/json";
    private const string Problem = "application/problem+json";

    private sealed record Parameter(string Name, string In, string Description, JsonObject Schema, bool Required = false);

    private sealed record Response(int Status, string Description, string? Schema, string MediaType = Json, bool Problem = false);

    private sealed record Operation(
        string Method, string Route, string OperationId, string Summary, Parameter[] Parameters, string? RequestBody, Response[] Responses,
        bool RequestBodyRequired = true);

    /// <summary>The schemas of the document, by component name, each from its C# type.</summary>
    public static IReadOnlyDictionary<string, Type> Components { get; } = new Dictionary<string, Type>
    {
        ["Job"] = typeof(Job),
        ["JobLinks"] = typeof(JobLinks),
        ["JobSubmission"] = typeof(JobSubmission),
        ["DraftPatch"] = typeof(DraftPatch),
        ["SubmitOptions"] = typeof(SubmitOptions),
        ["JobStatusView"] = typeof(JobStatusView),
        ["JobLogPage"] = typeof(JobLogPage),
        ["JobLogLine"] = typeof(JobLogLine),
        ["JobResultView"] = typeof(JobResultView),
        ["JobListView"] = typeof(JobListView),
        ["JobStatsView"] = typeof(JobStatsView),
        ["JobTypeList"] = typeof(JobTypeList),
        ["DurableInstanceStatus"] = typeof(DurableInstanceStatus),
        ["PurgeResult"] = typeof(PurgeResult),
        ["ProblemDetails"] = typeof(ProblemBody),
    };

    private static Parameter Id => new("id", "path", "The job id (32 lowercase hex characters).",
        new JsonObject { ["type"] = "string", ["pattern"] = "^[0-9a-f]{32}$" }, Required: true);

    private static Parameter Query(string name, string description, string type = "string") =>
        new(name, "query", description, new JsonObject { ["type"] = type });

    private static readonly Parameter[] ListFilters =
    [
        Query("status", "Statuses to include; repeat or comma-separate (draft, pending, running, completed, failed, cancelled, timed_out)."),
        Query("type", "Job types to include; repeat or comma-separate."),
        Query("createdFrom", "Created at or after (ISO-8601); a page with a creation window has no total."),
        Query("createdTo", "Created at or before (ISO-8601)."),
        Query("limit", "Jobs per page, 1–100 (default 50).", "integer"),
        Query("next", "The opaque cursor of the previous page's pagination.next."),
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

    private static Response Conflict(string when) => new(409, when, "ProblemDetails", Problem, true);

    private static readonly Operation[] Operations =
    [
        new("post", "jobs", "CreateJob", "Create a job (202 with its status URL); Idempotency-Key honoured.",
            [new("Idempotency-Key", "header", "The same key from the same owner returns the same job. Keys starting with queue: are reserved (keys made from queue message ids).", new JsonObject { ["type"] = "string" })],
            "JobSubmission", [new(202, "Accepted: the job and its management URLs.", "Job"), new(201, "A draft, stored and not started.", "Job"),
                new(200, "Replayed: the job this idempotency key created.", "Job"), new(413, "Input too large.", "ProblemDetails", Problem, true)]),
        new("get", "jobs", "ListJobs", "List jobs (the caller's; admins: all), filtered, ordered and paged by cursor.",
            [.. ListFilters, Query("entityType", "With entityId: the jobs of one entity."), Query("entityId", "With entityType.")], null,
            [new(200, "A page.", "JobListView"), new(403, "Another owner's jobs, not an admin.", "ProblemDetails", Problem, true)]),
        new("get", "jobs/stats", "GetJobStats", "Counts by status and type for the caller's scope (admins: all, or one owner). consistency: immediate (an owner's: they agree with the listing at once) or periodic (all jobs: summed by the reconciler, up to one period behind).",
            [Query("owner", "One owner's counts (admins only).")], null,
            [new(200, "The counts.", "JobStatsView"), new(403, "Another owner's counts, not an admin.", "ProblemDetails", Problem, true)]),
        new("get", "jobs/{id}", "GetJob", "The whole job.", [Id], null, [new(200, "The job.", "Job"), NotFound]),
        new("patch", "jobs/{id}", "UpdateDraft", "Edit a draft's input or correlation id.", [Id], "DraftPatch",
            [new(200, "The draft.", "Job"), NotFound, Conflict("Not a draft.")]),
        new("get", "jobs/{id}/status", "GetJobStatus", "The small polling shape.", [Id], null, [new(200, "The status.", "JobStatusView"), NotFound]),
        new("get", "jobs/{id}/logs", "GetJobLogs", "Log lines oldest first, with a cursor to tail.",
            [Id, Query("after", "The cursor of the last line read."), Query("limit", "Lines, 1–1000 (default 100).", "integer")], null,
            [new(200, "A page of lines.", "JobLogPage"), NotFound]),
        new("get", "jobs/{id}/result", "GetJobResult", "The result (or error) of an ended job.", [Id], null,
            [new(200, "The outcome.", "JobResultView"), NotFound, Conflict("The job has not ended.")]),
        new("get", "jobs/{id}/events", "GetJobEvents",
            "The job as Server-Sent Events: `status` (JobStatusView), `log` (JobLogLine) and `end` (JobStatusView, then the stream closes); every event has an id, and Last-Event-ID resumes after it.",
            [Id, new("Last-Event-ID", "header", "Resume after this event.", new JsonObject { ["type"] = "string" })], null,
            [new(200, "The event stream.", null, "text/event-stream"), new(204, "Resumed after the end: nothing more will come.", null),
                NotFound, new(429, "Too many open streams for this caller.", "ProblemDetails", Problem, true)]),
        new("post", "jobs/{id}/cancel", "CancelJob", "Cancel: at once when not started, at the next step boundary when running.", [Id], null,
            [new(200, "Cancelled now.", "Job"), new(202, "Cancel requested.", "Job"), NotFound, Conflict("Already ended.")]),
        new("put", "jobs/{id}/cancel", "CancelJob", "Cancel (as POST).", [Id], null,
            [new(200, "Cancelled now.", "Job"), new(202, "Cancel requested.", "Job"), NotFound, Conflict("Already ended.")]),
        new("post", "jobs/{id}/submit", "SubmitDraft", "Validate a draft and start it (optionally at notBefore).", [Id], "SubmitOptions",
            [new(202, "Submitted.", "Job"), NotFound, Conflict("Not a draft.")], RequestBodyRequired: false),
        new("get", "job-types", "ListJobTypes", "Every job type: steps, timeout, input schema, static metadata.", [], null,
            [new(200, "The types.", "JobTypeList")]),
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
        new("post", "jobs/{id}/instance/raiseEvent/{eventName}", "RaiseJobInstanceEvent", "Raise an event to the orchestration.",
            [Id, new("eventName", "path", "The event name.", new JsonObject { ["type"] = "string" }, Required: true)], null,
            [new(202, "Raised.", null), NotFound, new(410, "Already ended.", null)]),
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
            schemas[name] = Schema(name, type);
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject
            {
                ["title"] = "Jobs",
                ["version"] = "1.0",
                ["description"] = "Long-running jobs as durable orchestrations: create, watch, list, cancel. Identity: App Service Authentication (x-ms-client-principal); function keys (x-functions-key or ?code=).",
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

    /// <summary>The schema of a component: the type's export; a job as served also carries its management URLs.</summary>
    public static JsonObject Schema(string name, Type type)
    {
        var schema = JsonSchemas.For(type).AsObject();
        if (name == "Job")
        {
            var properties = schema["properties"]!.AsObject();
            foreach (var (property, value) in JsonSchemas.For(typeof(JobLinks))["properties"]!.AsObject())
            {
                if (!properties.ContainsKey(property))
                {
                    properties[property] = value!.DeepClone();
                }
            }
            properties["nativeManagementUrls"] = JsonSchemas.For(typeof(JobLinks));
        }
        return schema;
    }

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
        var responses = new JsonObject();
        var changesState = operation.Method is "post" or "put" or "patch" or "delete";
        foreach (var response in operation.Responses.Concat(Errors).Concat(changesState ? StateChangeErrors : []).DistinctBy(r => r.Status))
        {
            var described = new JsonObject { ["description"] = response.Description };
            if (response.MediaType == "text/event-stream")
            {
                described["content"] = new JsonObject { [response.MediaType] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string" } } };
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

    private static JsonObject Ref(string component) => new() { ["$ref"] = "#/components/schemas/" + component };
}
