using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;

namespace Jobs.Functions.Orchestration;

/// <summary>
/// The orchestrator's input, fixed when the job starts: its steps with their retry policies and its deadline.
/// Carrying the plan (rather than looking the handler up) keeps replays deterministic across deployments.
/// </summary>
/// <paramref name="NotBefore"/> is a scheduled start the orchestration waits for on a durable timer.
/// <paramref name="Revision"/> says which orchestration wrote the instance's history: 0 (absent) for instances started
/// before <see cref="CurrentRevision"/>, whose history begins with a deadline timer the replay must create again.
/// <paramref name="StartAt"/> is the step a resumed job starts at (0: the first), handed <paramref name="StartOutput"/>
/// as the previous step's output.
/// <paramref name="Limited"/> says whether the job's type declared limits (<see cref="JobConcurrency.IsLimited"/>) when
/// the plan was made; read from revision <see cref="AdmittedInFirstStepRevision"/> on (absent: limited, the way before).
public sealed record JobPlan(
    string JobId, string Type, IReadOnlyList<JobStepPlan> Steps, DateTimeOffset Deadline, DateTimeOffset? NotBefore = null, string? TraceParent = null,
    int Revision = 0, int StartAt = 0, JsonElement? StartOutput = null, bool Limited = true)
{
    /// <summary>
    /// 1: no durable timer for the deadline (see <see cref="JobOrchestrator"/>). 2: the job is admitted (a slot of its
    /// type, <c>Concurrency/JobSlots</c>) before its first step; instances of earlier revisions replay without. 3: a job of
    /// a type without limits is admitted by its first step, which only checks the type's pause (no admission activity).
    /// </summary>
    public const int CurrentRevision = 3;

    /// <summary>The first revision whose orchestration asks for a slot before its first step.</summary>
    public const int AdmittedRevision = 2;

    /// <summary>The first revision in which a job of a type without limits is admitted by its first step.</summary>
    public const int AdmittedInFirstStepRevision = 3;

    /// <summary>True when the admission activity runs before the first step (revision 2, or a limited type's job).</summary>
    public bool AdmitsBeforeFirstStep => Revision >= AdmittedRevision && (Revision < AdmittedInFirstStepRevision || Limited);

    /// <summary>True when the first step checks the type's pause instead (revision 3 on, a type without limits).</summary>
    public bool AdmitsInFirstStep => Revision >= AdmittedInFirstStepRevision && !Limited;
}

/// <summary>What the orchestration publishes as its custom status at every step boundary.</summary>
public sealed record JobCustomStatus(int Progress, string? Step, int StepIndex, int StepCount, string? Message);

/// <summary>
/// Input of the step activity. The step is named (a redeploy that changes a type's steps must not run the wrong
/// one); attempt numbers are the orchestration's, so a retried bookkeeping write is idempotent.
/// <paramref name="CheckPause"/> is set on the first step of a job of a type without limits until it is admitted: the
/// activity reads the type's pause before it records anything and answers <see cref="StepOutcomeKind.NotAdmitted"/>
/// when the type is paused.
/// <paramref name="Completed"/> is the step before it, whose closing log line this activity writes, with
/// <paramref name="Carried"/>, the lines the step before made but did not write. <paramref name="At"/> is when the
/// orchestration began this step: the same for every try, so a status change it makes is stamped the same each time.
/// (The trailing members are optional so that instances started before they existed replay.)
/// </summary>
public sealed record StepRequest(
    string JobId, int StepIndex, string StepName, int Attempt, int TotalAttempts, JsonElement? PreviousOutput, CompletedStep? Completed,
    DateTimeOffset? At = null, IReadOnlyList<JobLogLine>? Carried = null, string? TraceParent = null, bool CheckPause = false);

/// <summary>
/// A step that returned, how long its successful attempt took, and when the orchestration learned of it (replay-safe):
/// the next activity logs it once, keyed by that time and the step's index, so a re-delivered activity cannot repeat it.
/// </summary>
public sealed record CompletedStep(string Name, int Index, long DurationMs, DateTimeOffset At);

/// <summary>
/// Input of the activity that admits a job (a slot of its type): <paramref name="At"/> is the orchestration's time, which
/// stamps the record's move to <c>queued</c> so that a retried activity writes the same change.
/// </summary>
public sealed record AdmitRequest(string JobId, DateTimeOffset At);

/// <summary>
/// Input of the activity that records a job waiting for a decision before step <paramref name="StepIndex"/>, or finds
/// it answered (<see cref="JobActivities.AwaitDecision"/>). <paramref name="AskedAt"/> is when the orchestration first
/// asked: the same on every call, so the ask is written once. With <paramref name="Expire"/> the timeout has passed: the
/// activity applies it unless an answer came first. <paramref name="Completed"/>, <paramref name="Carried"/> and
/// <paramref name="PreviousOutput"/> are the step before's, written (and kept for a resume) with the ask.
/// </summary>
public sealed record AwaitDecisionRequest(
    string JobId, int StepIndex, string StepName, JobDecisionRequest Decision, DateTimeOffset AskedAt, bool Expire = false,
    CompletedStep? Completed = null, IReadOnlyList<JobLogLine>? Carried = null, JsonElement? PreviousOutput = null);

/// <summary>Where a decision stands, as <see cref="JobActivities.AwaitDecision"/> found it.</summary>
public enum DecisionOutcomeKind
{
    /// <summary>Recorded and unanswered: the orchestration waits for the decision's event or its timeout.</summary>
    Waiting,

    /// <summary>Answered (<see cref="DecisionOutcome.Answer"/>): run the step, or end the job when it expired.</summary>
    Answered,

    CancelRequested,
    JobEnded,

    /// <summary>The job's deadline passed before the ask was recorded.</summary>
    TimedOut,
}

/// <summary>
/// Output of <see cref="JobActivities.AwaitDecision"/>; <paramref name="Lines"/> are lines it did not write (for the
/// ending), <paramref name="EndedAs"/> how an ended job ended.
/// </summary>
public sealed record DecisionOutcome(
    DecisionOutcomeKind Kind, DecisionAnswer? Answer = null, DateTimeOffset? TimeoutAt = null, JobStatus? EndedAs = null, IReadOnlyList<JobLogLine>? Lines = null);

/// <summary>How a step attempt ended when it did not throw.</summary>
public enum StepOutcomeKind
{
    Completed,
    CancelRequested,
    JobEnded,

    /// <summary>The job's deadline passed: the handler was stopped (or never started), and nothing was written after.</summary>
    TimedOut,

    /// <summary>
    /// The first step of a job of a type without limits found the type paused (<see cref="StepRequest.CheckPause"/>): it
    /// wrote nothing and ran nothing; the orchestration admits the job (which waits <c>queued</c>) and runs the step again.
    /// </summary>
    NotAdmitted,
}

/// <summary>Output of the step activity; <paramref name="Lines"/> are the step's lines it did not write, for the next activity.</summary>
public sealed record StepOutcome(
    StepOutcomeKind Kind, JsonElement? Output, Dictionary<string, string>? ResultMetadata, JobStatus? EndedAs, long DurationMs = 0,
    IReadOnlyList<JobLogLine>? Lines = null);

/// <summary>Input of the activity that runs one item of a parallel step (<paramref name="ItemIndex"/> is 0-based).</summary>
public sealed record ItemRequest(string JobId, int StepIndex, string StepName, int ItemIndex, int ItemCount, JsonElement Item, int Attempt, string? TraceParent = null);

/// <summary>Output of the item activity; <paramref name="Lines"/> are the item's lines it did not write.</summary>
public sealed record ItemOutcome(StepOutcomeKind Kind, JsonElement? Output, IReadOnlyList<JobLogLine>? Lines);

/// <summary>Input of the activity that records a parallel step's progress (and the items' lines so far).</summary>
public sealed record ItemsProgress(
    string JobId, int StepIndex, int StepCount, string StepName, int Done, int Total, IReadOnlyList<JobLogLine> Lines, int Failed = 0, string? States = null);

/// <summary>Input of the activity that writes a terminal state (see <see cref="StepRequest"/> for the trailing members).</summary>
public sealed record FinishRequest(
    string JobId, JobStatus Status, string Message, JsonElement? Result, Dictionary<string, string>? Metadata, JobError? Error, CompletedStep? Completed = null,
    DateTimeOffset? At = null, IReadOnlyList<JobLogLine>? Carried = null, string? TraceParent = null)
{
    /// <summary>The ending the orchestration decided (see <see cref="JobOutcome"/>).</summary>
    public JobOutcome Outcome() => new(Status, Result, Error, Message, Metadata);
}
