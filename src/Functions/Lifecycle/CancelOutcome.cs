using Jobs.Functions.Model;

namespace Jobs.Functions.Lifecycle;

/// <summary>What a cancel request did.</summary>
public enum CancelEffect
{
    /// <summary>A draft or pending job was cancelled on the spot: it never runs.</summary>
    CancelledNow,

    /// <summary>A running job was flagged; it stops at its next step boundary.</summary>
    Requested,

    /// <summary>The job had already ended; nothing changed.</summary>
    AlreadyEnded,
}

public sealed record CancelOutcome(Job Job, CancelEffect Effect);
