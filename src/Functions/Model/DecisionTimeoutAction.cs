namespace Jobs.Functions.Model;

/// <summary>What happens when nobody answers a decision by its timeout (<c>Handlers/JobDecisionRequest</c>).</summary>
public enum DecisionTimeoutAction
{
    /// <summary>The job fails (<c>DecisionTimedOut</c>) without running the step.</summary>
    Fail,

    /// <summary>The job ends cancelled without running the step.</summary>
    Cancel,

    /// <summary>The step runs as if approved; its decision says it timed out.</summary>
    Approve,

    /// <summary>The step runs as if rejected; its decision says it timed out, and the handler decides what a rejection does.</summary>
    Reject,
}
