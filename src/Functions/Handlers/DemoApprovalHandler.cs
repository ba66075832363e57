using System.ComponentModel.DataAnnotations;
using Jobs.Functions.Model;

namespace Jobs.Functions.Handlers;

/// <summary>Input of <see cref="DemoApprovalHandler"/>.</summary>
public sealed record DemoApprovalInput
{
    /// <summary>What the job asks before it deploys.</summary>
    [StringLength(JobDecisionRequest.MaxQuestionChars, MinimumLength = 1)]
    public string Question { get; init; } = "Deploy?";

    /// <summary>How long the job waits for an answer, in seconds (default: a day).</summary>
    [Range(1, 7 * 86_400)]
    public int DecisionTimeoutSeconds { get; init; } = 86_400;

    /// <summary>What happens when nobody answers in time (default: the job fails).</summary>
    public DecisionTimeoutAction OnTimeout { get; init; } = DecisionTimeoutAction.Fail;

    /// <summary>A role whose members may answer besides the job's owner (default: <c>approver</c>).</summary>
    [StringLength(64, MinimumLength = 1)]
    public string? Role { get; init; } = DemoApprovalHandler.DefaultRole;
}

/// <summary>
/// <c>demo.approval</c>: a release that waits for a person (issue 31). Its <c>prepare</c> step builds the release; its
/// <c>deploy</c> step first asks the decision <c>deploy</c> ("Deploy?"), then, approved, deploys and completes with who
/// approved; rejected (by a person, or by its timeout when told to), it fails with the rejection and its comment.
/// Its timeout covers the wait (waiting counts against a job's timeout): the decision's timeout plus an hour.
/// </summary>
public sealed class DemoApprovalHandler : JobHandler<DemoApprovalInput>
{
    public const string TypeName = "demo.approval";
    public const string DecisionName = "deploy";
    public const string DefaultRole = "approver";

    public override string Type => TypeName;

    public override string Description => "Prepares a release, asks a person \"Deploy?\" (the decision deploy), then deploys when approved or fails when rejected.";

    public override TimeSpan Timeout => TimeSpan.FromDays(7) + TimeSpan.FromHours(1);

    protected override TimeSpan TimeoutFor(DemoApprovalInput input) => TimeSpan.FromSeconds(input.DecisionTimeoutSeconds) + TimeSpan.FromHours(1);

    protected override IReadOnlyList<JobStep<DemoApprovalInput>> Steps(DemoApprovalInput input) =>
    [
        new("prepare", PrepareAsync),
        new("deploy", DeployAsync, StepRetryPolicy.None)
        {
            Decision = new JobDecisionRequest(DecisionName, input.Question, TimeSpan.FromSeconds(input.DecisionTimeoutSeconds), input.OnTimeout, input.Role),
        },
    ];

    private static async Task<object?> PrepareAsync(DemoApprovalInput input, JobStepContext context)
    {
        await context.LogAsync("Release prepared.");
        return new { prepared = true };
    }

    private static async Task<object?> DeployAsync(DemoApprovalInput input, JobStepContext context)
    {
        var decision = context.Decision ?? throw new InvalidOperationException("The deploy step runs only once the decision deploy is answered.");
        var by = decision.TimedOut ? "its timeout" : decision.DecidedByName ?? decision.DecidedBy;
        if (decision.Answer != DecisionAnswer.Approve)
        {
            throw new InvalidOperationException($"Deployment rejected by {by}{(decision.Comment is null ? "" : $": {decision.Comment}")}.");
        }
        await context.LogAsync($"Deploying, approved by {by}.");
        return new { deployed = true, approvedBy = decision.DecidedBy, decision.TimedOut, decision.Comment, decision.Payload };
    }
}
