using Jobs.Functions.Model;
using Jobs.Functions.Submissions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary>
/// <c>POST /api/jobs/{id}/rerun</c>: 202 with a new job that reruns an ended one — from the start (optionally with a
/// new <c>input</c>), or with <c>{"from": "failed-step"}</c> from the step a failed job failed at. 409 while the job has
/// not ended, for a resume the job or its type does not allow; 400 for a malformed request. Honours
/// <c>Idempotency-Key</c> as creation does. The new job belongs to the original's owner.
/// </summary>
public sealed class RerunJobFunction(ApiGuard guard, JobReruns reruns, PublicUrls urls)
{
    [Function(nameof(RerunJob))]
    public Task<IActionResult> RerunJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs/{id}/rerun")] HttpRequest request, string id,
        [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, [], async caller =>
        {
            var cancellation = request.HttpContext.RequestAborted;
            var original = await guard.GetVisibleJobAsync(id, caller, cancellation);
            var body = await RequestBody.ReadOptionalAsync<RerunRequest>(request, cancellation) ?? new RerunRequest();
            var key = request.Headers[CreateJobFunction.IdempotencyHeader].FirstOrDefault();
            var outcome = await reruns.RerunAsync(original, body, key, guard.Actor(request, caller), durable, cancellation);
            var baseUrl = urls.BaseUrl(request);
            return ApiResult.JobAccepted(JobRepresentation.Full(outcome.Job, baseUrl), outcome.Job.Id, baseUrl, outcome.Created);
        });
}
