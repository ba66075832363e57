using System.Text.RegularExpressions;
using Jobs.Functions.Model;

namespace Jobs.Functions.Handlers;

/// <summary>
/// A step's question to a person (issue 31): before the step runs, its job waits — status <c>waiting</c>, with no poll
/// and no work — until someone answers <c>POST /api/jobs/{id}/decisions/{Name}</c> approve or reject, or until
/// <paramref name="Timeout"/> passes and <paramref name="OnTimeout"/> applies. The step then runs with the answer in
/// <see cref="JobStepContext.Decision"/> and decides what a rejection means (fail with a message, or complete with a
/// "rejected" result). Declared on the step (<see cref="JobStep{TInput}.Decision"/>); it travels in the job's plan.
/// </summary>
/// <param name="Name">The decision's name in the route: 1–64 of <c>a-z 0-9 - _ .</c>; unique among the type's steps.</param>
/// <param name="Question">What is asked (at most 500 characters).</param>
/// <param name="Timeout">How long the job waits for an answer, from when it starts waiting. The job's own timeout still
/// holds: a handler that waits for people sets a timeout that covers the wait (waiting counts against it).</param>
/// <param name="OnTimeout">What happens when nobody answers in time.</param>
/// <param name="Role">Callers with this role may answer, besides the job's owner and admins; null: nobody else.</param>
public sealed partial record JobDecisionRequest(
    string Name, string Question, TimeSpan Timeout, DecisionTimeoutAction OnTimeout = DecisionTimeoutAction.Fail, string? Role = null)
{
    public const int MaxQuestionChars = 500;

    /// <summary>When a decision asked at <paramref name="askedAt"/> times out: computed here only (the orchestration's
    /// timer and the activity that records the question both use it).</summary>
    public DateTimeOffset TimeoutAt(DateTimeOffset askedAt) => askedAt + Timeout;

    /// <summary>True when <paramref name="name"/> is a valid decision name.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Throws when the declaration cannot work (a handler's mistake, found when its steps are planned).</summary>
    internal void Check(string type, string step)
    {
        if (!IsValidName(Name))
        {
            throw new InvalidOperationException($"{type}'s step '{step}' asks a decision named '{Name}': names are 1–64 of a-z 0-9 - _ .");
        }
        if (string.IsNullOrWhiteSpace(Question) || Question.Length > MaxQuestionChars)
        {
            throw new InvalidOperationException($"{type}'s step '{step}' asks a question of 1–{MaxQuestionChars} characters.");
        }
        if (Timeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{type}'s step '{step}' needs a positive decision timeout.");
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    private static partial Regex NamePattern();
}
