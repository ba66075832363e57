using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary>
/// Durable Functions' instance HTTP API for one job, under the caller's permissions: these are the
/// <c>statusQueryGetUri</c>, <c>sendEventPostUri</c>, <c>terminatePostUri</c> and <c>purgeHistoryDeleteUri</c>
/// handed out on creation, so a generic Durable Functions client works unchanged without the system key.
/// </summary>
public sealed class JobInstanceFunctions(ApiGuard guard, JobCommands commands, PublicUrls urls)
{
    private static readonly string[] StatusParameters = ["showHistory", "showHistoryOutput", "showInput", "returnInternalServerErrorOnFailure"];

    [Function(nameof(GetJobInstance))]
    public Task<IActionResult> GetJobInstance(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/instance")] HttpRequest request,
        string id, [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, StatusParameters, async caller =>
        {
            var showHistory = DurableStatusPayload.Flag(request, "showHistory", false);
            DurableStatusPayload.Flag(request, "showHistoryOutput", false);
            var showInput = DurableStatusPayload.Flag(request, "showInput", true);
            var failAs500 = DurableStatusPayload.Flag(request, "returnInternalServerErrorOnFailure", false);
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var metadata = await durable.GetInstanceAsync(job.Id, getInputsAndOutputs: true, request.HttpContext.RequestAborted)
                ?? throw ApiProblemException.NotFound($"The orchestration of job {job.Id}");
            var history = showHistory
                ? DurableStatusPayload.History(await durable.GetOrchestrationHistoryAsync(job.Id, request.HttpContext.RequestAborted))
                : null;
            return DurableStatusPayload.Respond(request, urls.BaseUrl(request), metadata, showInput, history, failAs500);
        });

    /// <summary>Terminates the orchestration and records the job as cancelled, so record and instance agree.</summary>
    [Function(nameof(TerminateJobInstance))]
    public Task<IActionResult> TerminateJobInstance(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs/{id}/instance/terminate")] HttpRequest request,
        string id, [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, ["reason"], async caller =>
        {
            var reason = QueryParameters.Single(request, "reason") ?? "terminated";
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var metadata = await durable.GetInstanceAsync(job.Id, request.HttpContext.RequestAborted)
                ?? throw ApiProblemException.NotFound($"The orchestration of job {job.Id}");
            if (!DurableStatusPayload.IsRunning(metadata.RuntimeStatus) || job.Status.IsTerminal())
            {
                return Problems.Create(request, StatusCodes.Status410Gone, "Gone", $"Job {job.Id} has already ended.");
            }
            var ended = await commands.TerminateAsync(job, caller.Id, reason, durable, request.HttpContext.RequestAborted);
            // The job can end another way between the read and the terminate: then nothing was terminated.
            return ended.Status == JobStatus.Cancelled
                ? new ApiResult(StatusCodes.Status202Accepted, null)
                : Problems.Create(request, StatusCodes.Status410Gone, "Gone", $"Job {job.Id} has already ended.");
        });

    [Function(nameof(RaiseJobInstanceEvent))]
    public Task<IActionResult> RaiseJobInstanceEvent(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs/{id}/instance/raiseEvent/{eventName}")] HttpRequest request,
        string id, string eventName, [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, [], async caller =>
        {
            if (!string.Equals(request.ContentType?.Split(';')[0].Trim(), "application/json", StringComparison.OrdinalIgnoreCase))
            {
                throw ApiProblemException.BadParameter("Content-Type", "must be application/json");
            }
            var payload = await RequestBody.ReadAsync<System.Text.Json.Nodes.JsonNode>(request, request.HttpContext.RequestAborted);
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var metadata = await durable.GetInstanceAsync(job.Id, request.HttpContext.RequestAborted)
                ?? throw ApiProblemException.NotFound($"The orchestration of job {job.Id}");
            if (!DurableStatusPayload.IsRunning(metadata.RuntimeStatus))
            {
                return Problems.Create(request, StatusCodes.Status410Gone, "Gone", $"Job {job.Id} has already ended.");
            }
            try
            {
                await durable.RaiseEventAsync(job.Id, eventName, payload, request.HttpContext.RequestAborted);
            }
            catch (Exception ex) when (DurableInstanceErrors.IsEnded(ex))
            {
                // It ended (or was terminated) after the read: what the native API answers for an ended instance.
                return Problems.Create(request, StatusCodes.Status410Gone, "Gone", $"Job {job.Id} has already ended.");
            }
            catch (Exception ex) when (DurableInstanceErrors.IsUnknown(ex))
            {
                throw ApiProblemException.NotFound($"The orchestration of job {job.Id}");
            }
            return new ApiResult(StatusCodes.Status202Accepted, null);
        });

    /// <summary>Purges the durable history of an ended job (the job record and its logs stay).</summary>
    [Function(nameof(PurgeJobInstance))]
    public Task<IActionResult> PurgeJobInstance(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "jobs/{id}/instance")] HttpRequest request,
        string id, [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, [], async caller =>
        {
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var metadata = await durable.GetInstanceAsync(job.Id, request.HttpContext.RequestAborted)
                ?? throw ApiProblemException.NotFound($"The orchestration of job {job.Id}");
            if (DurableStatusPayload.IsRunning(metadata.RuntimeStatus))
            {
                return Problems.Create(request, StatusCodes.Status412PreconditionFailed, "Precondition failed", $"Job {job.Id} has not ended.");
            }
            var purged = await durable.PurgeInstanceAsync(job.Id, cancellation: request.HttpContext.RequestAborted);
            return ApiResult.Ok(new PurgeResult(purged.PurgedInstanceCount));
        });
}
