using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;

namespace Jobs.Functions.Orchestration;

/// <summary>
/// The orchestrator's input, fixed when the job starts: its steps with their retry policies and its deadline.
/// Carrying the plan (rather than looking the handler up) keeps replays deterministic across deployments.
/// </summary>
public sealed record JobPlan(string JobId, string Type, IReadOnlyList<JobStepPlan> Steps, DateTimeOffset Deadline);

/// <summary>What the orchestration publishes as its custom status at every step boundary.</summary>
public sealed record JobCustomStatus(int Progress, string? Step, int StepIndex, int StepCount, string? Message);

/// <summary>Input of the step activity.</summary>
public sealed record StepRequest(string JobId, int StepIndex, JsonElement? PreviousOutput);

/// <summary>How a step attempt ended when it did not throw.</summary>
public enum StepOutcomeKind
{
    Completed,
    CancelRequested,
    JobEnded,
}

/// <summary>Output of the step activity.</summary>
public sealed record StepOutcome(StepOutcomeKind Kind, JsonElement? Output, Dictionary<string, string>? ResultMetadata, JobStatus? EndedAs);

/// <summary>Input of the activity that writes a terminal state.</summary>
public sealed record FinishRequest(string JobId, JobStatus Status, string Message, JsonElement? Result, Dictionary<string, string>? Metadata, JobError? Error);

/// <summary>The orchestration's output: how the job ended.</summary>
public sealed record JobOutcome(JobStatus Status, JsonElement? Result, JobError? Error);
