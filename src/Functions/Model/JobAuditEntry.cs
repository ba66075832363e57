namespace Jobs.Functions.Model;

/// <summary>
/// One entry of a job's audit trail: who (<see cref="Actor"/>) did what (<see cref="Action"/>, one of
/// <see cref="AuditActions"/>, with <see cref="Details"/> such as a reason or a bulk job's id) and when. Written in the
/// same transaction as the change it describes; <see cref="Cursor"/> orders entries and resumes a page.
/// </summary>
public sealed record JobAuditEntry(string Cursor, DateTimeOffset At, string Action, AuditActor Actor, IReadOnlyDictionary<string, string> Details)
{
    /// <summary>Longest detail value kept (a terminate reason is the caller's text).</summary>
    public const int MaxDetailChars = 1_000;

    /// <summary>
    /// An entry of <paramref name="action"/> by <paramref name="actor"/>; details with no value are left out, and the bulk job
    /// an actor came through is one of them (<c>bulkJob</c>).
    /// </summary>
    public static JobAuditEntry Create(string cursor, DateTimeOffset at, string action, AuditActor actor, params (string Name, string? Value)[] details)
    {
        var kept = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in details)
        {
            if (value is not null)
            {
                kept[name] = value.Length <= MaxDetailChars ? value : value[..MaxDetailChars];
            }
        }
        if (actor.BulkJob is { } bulk)
        {
            kept["bulkJob"] = bulk;
        }
        return new JobAuditEntry(cursor, at, action, actor, kept);
    }
}

/// <summary>The actions a job's audit trail records (<see cref="JobAuditEntry.Action"/>), as the API shows them.</summary>
public static class AuditActions
{
    public const string Created = "created";
    public const string DraftEdited = "draft_edited";
    public const string Submitted = "submitted";

    /// <summary>A cancel that was accepted: details <c>effect</c> = <c>cancelled</c> (it ended at once) or <c>requested</c> (it stops at its next step).</summary>
    public const string CancelRequested = "cancel_requested";

    /// <summary>On the original job: it was rerun; details <c>rerunJob</c> name the new one (whose <c>created</c> entry names <c>rerunOf</c>).</summary>
    public const string Rerun = "rerun";

    /// <summary>Terminated through the job's terminate link, or — recorded by the reconciler — through the native Durable API.</summary>
    public const string Terminated = "terminated";
    public const string EventRaised = "event_raised";
    public const string InstancePurged = "instance_purged";

    /// <summary>A person answered a decision the job waited for: details <c>name</c>, <c>decision</c> (approve, reject), <c>comment</c>.</summary>
    public const string Decided = "decided";

    /// <summary>Nobody answered a decision by its timeout (actor: system <c>timeout</c>): details <c>name</c>, <c>onTimeout</c>.</summary>
    public const string DecisionTimedOut = "decision_timed_out";

    /// <summary>Deleted (retention, a bulk delete): kept in the deletion log, since the job's own trail goes with it.</summary>
    public const string Deleted = "deleted";

    public static readonly IReadOnlyList<string> All =
        [Created, DraftEdited, Submitted, CancelRequested, Rerun, Terminated, EventRaised, InstancePurged, Deleted, Decided, DecisionTimedOut];
}
