using Jobs.Functions.Submissions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary>
/// Drafts: <c>PATCH /api/jobs/{id}</c> edits a draft's input; <c>POST /api/jobs/{id}/submit</c> validates and
/// starts it (202, like creation; an optional body <c>{"notBefore": "…Z"}</c> schedules it). Both are 409 for a job
/// that is no longer a draft.
/// </summary>
public sealed class DraftFunctions(ApiGuard guard, JobSubmissionService submissions, PublicUrls urls)
{
    [Function(nameof(UpdateDraft))]
    public Task<IActionResult> UpdateDraft(
        [HttpTrigger(AuthorizationLevel.Function, "patch", Route = "jobs/{id}")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var patch = await RequestBody.ReadAsync<DraftPatch>(request, request.HttpContext.RequestAborted);
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var updated = await submissions.UpdateDraftAsync(job, patch, guard.Actor(request, caller), request.HttpContext.RequestAborted);
            return ApiResult.Ok(JobRepresentation.Full(updated, urls.BaseUrl(request)));
        });

    [Function(nameof(SubmitDraft))]
    public Task<IActionResult> SubmitDraft(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs/{id}/submit")] HttpRequest request,
        string id, [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, [], async caller =>
        {
            var options = await RequestBody.ReadOptionalAsync<SubmitOptions>(request, request.HttpContext.RequestAborted);
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var submitted = await submissions.SubmitDraftAsync(job, guard.Actor(request, caller), durable, request.HttpContext.RequestAborted, options?.NotBefore);
            var baseUrl = urls.BaseUrl(request);
            return new ApiResult(StatusCodes.Status202Accepted, JobRepresentation.Full(submitted, baseUrl))
                .WithHeader("Location", $"{baseUrl}/api/jobs/{submitted.Id}/status");
        });
}

/// <summary>The optional body of <c>POST /api/jobs/{id}/submit</c>.</summary>
public sealed record SubmitOptions(DateTimeOffset? NotBefore);
