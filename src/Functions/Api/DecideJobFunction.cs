using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Identity;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary>
/// <c>POST /api/jobs/{id}/decisions/{name}</c>: answers the decision a waiting job asks (issue 31) — 200 with the job,
/// now running on. Allowed to the job's owner, admins, and callers with the role the handler names for the decision
/// while the job waits for it; anyone else gets the 404 an unknown job gets. 409 (naming <c>name</c>), to the owner and
/// admins, when the job does not wait for that decision: it waits for another, it was answered (or timed out) already, or
/// it is not waiting (a role holder who loses a race with another answer gets it too). Bad input is a 400 naming the
/// field, and nothing is stored. Who decided is in the job's audit trail, written with the answer.
/// </summary>
public sealed class DecideJobFunction(ApiGuard guard, JobStore store, JobDecisions decisions, PublicUrls urls)
{
    [Function(nameof(DecideJob))]
    public Task<IActionResult> DecideJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs/{id}/decisions/{name}")] HttpRequest request, string id, string name,
        [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, [], async caller =>
        {
            var cancellation = request.HttpContext.RequestAborted;
            JobIds.Require(id);
            if (!JobDecisionRequest.IsValidName(name))
            {
                throw ApiProblemException.BadParameter("name", "must be a decision name: 1–64 of a-z 0-9 - _ .");
            }
            var body = await RequestBody.ReadAsync<DecisionBody>(request, cancellation);
            var (answer, comment, payload) = Parse(body);
            var job = await store.GetAsync(id, cancellation);
            if (job is null || !MayDecide(caller, job, name))
            {
                throw ApiProblemException.NotFound($"Job {id}");
            }
            var decided = await decisions.DecideAsync(job, name, answer, comment, payload, guard.Actor(request, caller), durable, cancellation);
            return ApiResult.Ok(JobRepresentation.Full(decided, urls.BaseUrl(request)));
        });

    /// <summary>
    /// The owner and admins (who see the job), and the role the decision names while the job waits for it unanswered: a
    /// role holder does not otherwise see the job, so once it no longer waits they get the unknown job's 404, not a 409
    /// telling its state and who answered.
    /// </summary>
    internal static bool MayDecide(Caller caller, Job job, string name) =>
        caller.CanAccess(job.Owner)
        || (JobTransitions.IsWaitingFor(job, name) && job.Decision is { Role: { } role } && caller.Roles.Contains(role));

    private static (DecisionAnswer Answer, string? Comment, JsonElement? Payload) Parse(DecisionBody body)
    {
        var errors = new List<InputError>();
        DecisionAnswer answer = default;
        switch (body.Decision)
        {
            case "approve":
                answer = DecisionAnswer.Approve;
                break;
            case "reject":
                answer = DecisionAnswer.Reject;
                break;
            case null:
                errors.Add(new InputError("decision", "is required: approve or reject"));
                break;
            default:
                errors.Add(new InputError("decision", "must be approve or reject"));
                break;
        }
        if (body.Comment is { Length: > JobDecision.MaxCommentChars })
        {
            errors.Add(new InputError("comment", $"must be at most {JobDecision.MaxCommentChars} characters"));
        }
        var payload = body.Payload is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } given ? given : (JsonElement?)null;
        if (payload is { } value)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new InputError("payload", "must be a JSON object"));
            }
            else if (System.Text.Encoding.UTF8.GetByteCount(value.GetRawText()) > JobDecision.MaxPayloadBytes)
            {
                errors.Add(new InputError("payload", $"must be at most {JobDecision.MaxPayloadBytes} bytes of JSON"));
            }
        }
        if (errors.Count > 0)
        {
            throw new InputValidationException(errors);
        }
        return (answer, string.IsNullOrWhiteSpace(body.Comment) ? null : body.Comment.Trim(), payload?.Clone());
    }
}
