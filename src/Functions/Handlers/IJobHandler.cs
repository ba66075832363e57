using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Jobs.Functions.Handlers;

/// <summary>The plan of a job: its steps (with retry policies) for one validated input.</summary>
/// <summary>
/// A step as the orchestration runs it: its name and retry policy, and for a parallel step its maximum parallelism
/// (0: an ordinary step) and what a failed item does, and for a step that waits for a person the decision it asks
/// (<see cref="JobDecisionRequest"/>). It travels in the orchestration's input, which the durable
/// backend stores and reads on every replay, so defaults are left out of its JSON (absent reads back as the default).
/// </summary>
public sealed record JobStepPlan(
    string Name,
    StepRetryPolicy Retry,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int MaxParallelism = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] ItemFailureMode OnItemFailure = ItemFailureMode.FailFast,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] JobDecisionRequest? Decision = null)
{
    [JsonIgnore]
    public bool IsParallel => MaxParallelism > 0;
}

/// <summary>
/// What the engine needs from a job type. Implement it by deriving from <see cref="JobHandler{TInput}"/>,
/// which supplies validation and step dispatch; a handler never writes status, progress or errors itself.
/// </summary>
public interface IJobHandler
{
    /// <summary>The type name clients submit, e.g. <c>demo.steps</c>.</summary>
    string Type { get; }

    string Description { get; }

    /// <summary>How long a job may run, from submission, before it ends <c>timed_out</c>.</summary>
    TimeSpan Timeout { get; }

    /// <summary>The timeout for one validated input (by default <see cref="Timeout"/>).</summary>
    TimeSpan TimeoutFor(object input);

    /// <summary>JSON Schema of the input, for <c>GET /api/job-types</c>.</summary>
    JsonNode InputSchema { get; }

    /// <summary>Parses and validates input; throws <see cref="InputValidationException"/> naming the fields.</summary>
    object ParseInput(JsonElement? input);

    /// <summary>The steps of a real job, for its validated input.</summary>
    IReadOnlyList<JobStepPlan> PlanSteps(object input);

    /// <summary>
    /// Parses and validates a job's input and plans its steps, once: what the engine runs the job's steps through.
    /// Throws <see cref="InputValidationException"/> as <see cref="ParseInput"/> does.
    /// </summary>
    HandlerRun Prepare(JsonElement? input);

    /// <summary>
    /// The step names <c>GET /api/job-types</c> shows, without a job's input: the steps of the default input
    /// (<c>{}</c>) when it validates, otherwise the names the handler declares. Never throws for invalid input.
    /// </summary>
    IReadOnlyList<string> DescribeSteps();

    /// <summary>Key/values every job of this type carries in its <c>metadata</c> from creation on.</summary>
    IReadOnlyDictionary<string, string> StaticMetadata { get; }

    /// <summary>
    /// Whether a failed job of this type may be resumed at the step that failed (<c>POST /api/jobs/{id}/rerun</c> with
    /// <c>"from": "failed-step"</c>): its later steps then get the output the earlier ones returned in the original job.
    /// A type whose steps depend on state outside their outputs (a lease, a temporary resource) says no.
    /// </summary>
    bool Resumable { get; }

    /// <summary>Why <see cref="Resumable"/> is false, for the refusal; null when it is true.</summary>
    string? NotResumableReason { get; }

    /// <summary>
    /// Set for the service's own types whose input carries what only the service may decide (a bulk action's scope):
    /// the route that creates them, never <c>POST /api/jobs</c> or the queue. Its jobs are listed and shown as any.
    /// </summary>
    string? CreatedThrough { get; }

    /// <summary>
    /// The events a job of this type waits for: the per-job <c>raiseEvent</c> route refuses every other name (404), since
    /// an event nobody waits for only grows the orchestration's history.
    /// </summary>
    IReadOnlyList<JobEventDeclaration> Events { get; }

    /// <summary>
    /// How many jobs of this type may run at once, in all and per <c>concurrencyKey</c>
    /// (<see cref="JobConcurrency.Unlimited"/> by default). Jobs over it wait <c>queued</c>.
    /// </summary>
    JobConcurrency Concurrency { get; }

    /// <summary>The priority (0–9, higher first) of a job created without one: the order queued jobs start in.</summary>
    int DefaultPriority { get; }

    /// <summary>Runs the step of that name (steps are found by name, never by position). A parallel step lists its items.</summary>
    Task<object?> RunStepAsync(string stepName, object input, JobStepContext context);

    /// <summary>Runs one item of the parallel step of that name.</summary>
    Task<object?> RunItemAsync(string stepName, object input, JsonElement item, JobStepContext context);
}
