using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary>
/// <c>POST|PUT /api/jobs/{id}/cancel</c>: 200 with the job when it is cancelled at once (draft, pending),
/// 202 when a running job will stop at its next step boundary, 409 when it had already ended.
/// </summary>
public sealed class CancelJobFunction(ApiGuard guard, JobCommands commands, PublicUrls urls)
{
    [Function(nameof(CancelJob))]
    public Task<IActionResult> CancelJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", "put", Route = "jobs/{id}/cancel")] HttpRequest request, string id,
        [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, [], async caller =>
        {
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var outcome = await commands.CancelAsync(job, guard.Actor(request, caller), request.HttpContext.RequestAborted, durable);
            return outcome.Effect switch
            {
                CancelEffect.AlreadyEnded => throw ApiProblemException.Conflict(
                    $"Job {job.Id} already ended as {outcome.Job.Status.ToWire()}; nothing was cancelled."),
                CancelEffect.CancelledNow => ApiResult.Ok(JobRepresentation.Full(outcome.Job, urls.BaseUrl(request))),
                _ => new ApiResult(StatusCodes.Status202Accepted, JobRepresentation.Full(outcome.Job, urls.BaseUrl(request))),
            };
        });
}
