namespace Jobs.Functions.Model;

/// <summary>
/// One step of a job as it ran: its first attempt's start, its end, how many attempts it took, and how it ended
/// (<c>running</c>, <c>completed</c>, <c>failed</c>, <c>cancelled</c>, <c>timed_out</c>). Kept on the record, written by
/// the record changes a step makes anyway (its start, the next step's start, the ending): no request of its own.
/// </summary>
/// <param name="Name">The step's name.</param>
/// <param name="Index">The step's 0-based index.</param>
/// <param name="Status">How it stands: running, completed, failed, cancelled or timed_out.</param>
/// <param name="StartedAt">When its first attempt started.</param>
/// <param name="EndedAt">When it ended (null while it runs).</param>
/// <param name="Attempts">Attempts made (1: the first try).</param>
/// <param name="Items">A parallel step's items, once it has reported some (null for an ordinary step).</param>
public sealed record JobStepRun(
    string Name, int Index, string Status, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, int Attempts, JobStepItems? Items = null)
{
    public const string Running = "running";
    public const string Completed = "completed";
}

/// <summary>
/// A parallel step's items: how many, how many done and failed, and each item's state in item order as one letter —
/// <c>p</c> waiting, <c>r</c> running (or waiting for a retry), <c>d</c> done, <c>f</c> failed — when there are at most
/// <see cref="MaxStates"/> items (null beyond: the counts still tell).
/// </summary>
public sealed record JobStepItems(int Total, int Done, int Failed, string? States)
{
    public const int MaxStates = 1_000;
}
