using System.Text.Json;

namespace Jobs.Functions.Model;

/// <summary>
/// The decision a job waits for, or last waited for (issue 31): asked when the orchestration reached a step that needs
/// one (the job is then <see cref="JobStatus.Waiting"/>), answered once — by a person through
/// <c>POST /api/jobs/{id}/decisions/{name}</c>, or by its timeout — under the record's ETag, so exactly one answer wins.
/// The record keeps the latest decision; every one is in the job's log and audit trail.
/// </summary>
/// <param name="Name">The decision's name, as the route names it (the handler's <c>JobDecisionRequest.Name</c>).</param>
/// <param name="Question">What is asked, for people (e.g. "Deploy?").</param>
/// <param name="Step">The step that runs once it is answered.</param>
/// <param name="StepIndex">That step's 0-based index.</param>
/// <param name="Role">Besides the job's owner (and admins), who may answer: callers with this role; null: nobody else.</param>
/// <param name="AskedAt">When the orchestration asked (its replay-safe time): the same on every retry of the ask.</param>
/// <param name="TimeoutAt">When the timeout applies <paramref name="OnTimeout"/>; the job's own deadline may come first.</param>
/// <param name="OnTimeout">What happens when nobody answers by <paramref name="TimeoutAt"/>.</param>
public sealed record JobDecision(
    string Name, string Question, string Step, int StepIndex, string? Role, DateTimeOffset AskedAt, DateTimeOffset TimeoutAt, DecisionTimeoutAction OnTimeout)
{
    /// <summary>The answer; null while the job waits for it.</summary>
    public DecisionAnswer? Answer { get; init; }

    /// <summary>True when the answer is the timeout's, not a person's.</summary>
    public bool TimedOut { get; init; }

    /// <summary>The person's comment (at most <see cref="MaxCommentChars"/>).</summary>
    public string? Comment { get; init; }

    /// <summary>The JSON object the person sent with the answer (at most <see cref="MaxPayloadBytes"/>).</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>Who answered: the principal's id (<c>timeout</c> for the timeout's answer).</summary>
    public string? DecidedBy { get; init; }

    /// <summary>The display name of who answered, when known.</summary>
    public string? DecidedByName { get; init; }

    public DateTimeOffset? DecidedAt { get; init; }

    /// <summary>Longest comment kept.</summary>
    public const int MaxCommentChars = 1_000;

    /// <summary>Largest payload accepted, in bytes of JSON.</summary>
    public const int MaxPayloadBytes = 8 * 1024;

    /// <summary>What <see cref="DecidedBy"/> says when the timeout answered.</summary>
    public const string TimeoutActor = "timeout";

    /// <summary>
    /// The external event that wakes the job's orchestration once an answer is recorded. It carries nothing the
    /// orchestration trusts: the record holds the answer, so an event raised some other way only makes it look again.
    /// </summary>
    public static string EventName(string name) => "jobs.decision." + name;

    /// <summary>True once answered (by anyone, or expired).</summary>
    public bool IsAnswered => Answer is not null;

    /// <summary>True when the decision is answered approve or reject (a person's, or the timeout's as the handler said).</summary>
    public bool IsDecided => Answer is DecisionAnswer.Approve or DecisionAnswer.Reject;
}
