using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// What a record update carries besides the change: log lines for the same transaction, and — for the orchestration's
/// activities — the orchestration's time, which makes the update repeatable (see <see cref="JobStore"/>).
/// </summary>
public sealed record JobWrite
{
    public static readonly JobWrite None = new();

    /// <summary>
    /// Lines that happened whatever the record says (a step's lines, the previous step's closing line): written in the
    /// record's transaction, or alone when the change turns out to be none.
    /// </summary>
    public IReadOnlyList<JobLogLine> Lines { get; init; } = [];

    /// <summary>Lines that describe the change itself ("step started", an ending's line): written only with it.</summary>
    public IReadOnlyList<JobLogLine> ChangeLines { get; init; } = [];

    /// <summary>
    /// Set by an activity of the job's orchestration: when the orchestration decided the change. A status change is
    /// stamped with it, so a retried activity writes the same list-row keys; and since the orchestration retries the
    /// activity until it succeeds, a projection that fails is thrown to it (the retry settles the change).
    /// </summary>
    public DateTimeOffset? OrchestratedAt { get; init; }

    public bool Orchestrated => OrchestratedAt is not null;

    /// <summary>
    /// The output of the step before, kept with the job for a resume (<see cref="StepOutputs"/>): written only with a
    /// change (the step's start), whose transaction it rides in.
    /// </summary>
    public KeptStepOutput? StepOutput { get; init; }

    /// <summary>
    /// The audit entry of the change (who asked for it, from where, what): written in the record's transaction and only
    /// with it — a change refused, or found already made, writes none (<see cref="JobAuditLog"/>).
    /// </summary>
    public JobAuditEntry? Audit { get; init; }
}
