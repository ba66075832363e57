using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Api;

/// <summary>
/// Durable Functions' instance HTTP API for one job, under the caller's permissions: these are the
/// <c>statusQueryGetUri</c>, <c>sendEventPostUri</c>, <c>terminatePostUri</c> and <c>purgeHistoryDeleteUri</c>
/// handed out on creation, so a generic Durable Functions client works unchanged without the system key. Each action
/// that succeeds is in the job's audit trail: a terminate in the transaction that ends the record; an event raised and a
/// history purged — changes of the durable store, not of the job's rows — by an entry written once the durable call succeeded.
/// </summary>
public sealed class JobInstanceFunctions(
    ApiGuard guard, JobCommands commands, PublicUrls urls, JobHandlerRegistry handlers, JobEventInbox inbox, JobAuditLog audit, IOptions<RaisedEventOptions> raisedEvents)
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
            var history = showHistory ? await HistoryAsync(durable, job.Id, request.HttpContext.RequestAborted) : null;
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
            var ended = await commands.TerminateAsync(job, guard.Actor(request, caller), reason, durable, request.HttpContext.RequestAborted);
            // The job can end another way between the read and the terminate: then nothing was terminated.
            return ended.Status == JobStatus.Cancelled
                ? new ApiResult(StatusCodes.Status202Accepted, null)
                : Problems.Create(request, StatusCodes.Status410Gone, "Gone", $"Job {job.Id} has already ended.");
        });

    /// <summary>
    /// Raises an event on the job's orchestration, only one its type declares it waits for (<see cref="IJobHandler.Events"/>;
    /// any other name is a 404), with a payload of at most <see cref="RaisedEventOptions.MaxPayloadBytes"/> (413), and while
    /// fewer than <see cref="RaisedEventOptions.MaxPendingPerJob"/> raised events wait to be consumed (409). Each refusal
    /// sends and stores nothing. The native Durable API (system key) raises any event, as the extension serves it.
    /// </summary>
    [Function(nameof(RaiseJobInstanceEvent))]
    public Task<IActionResult> RaiseJobInstanceEvent(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs/{id}/instance/raiseEvent/{eventName}")] HttpRequest request,
        string id, string eventName, [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, [], async caller =>
        {
            var cancellation = request.HttpContext.RequestAborted;
            if (!string.Equals(request.ContentType?.Split(';')[0].Trim(), "application/json", StringComparison.OrdinalIgnoreCase))
            {
                throw ApiProblemException.BadParameter("Content-Type", "must be application/json");
            }
            var payload = await RequestBody.ReadAsync<System.Text.Json.Nodes.JsonNode>(request, cancellation);
            var limits = raisedEvents.Value;
            if (System.Text.Encoding.UTF8.GetByteCount(payload.ToJsonString()) > limits.MaxPayloadBytes)
            {
                return Problems.Create(request, StatusCodes.Status413PayloadTooLarge, "Request too large",
                    $"An event's payload must be at most {limits.MaxPayloadBytes} bytes of JSON.", [new InputError("body", $"must be at most {limits.MaxPayloadBytes} bytes of JSON")]);
            }
            var job = await guard.GetVisibleJobAsync(id, caller, cancellation);
            IReadOnlyList<JobEventDeclaration> declared = handlers.TryGet(job.Type, out var handler) ? handler.Events : [];
            if (!declared.Any(e => e.Name == eventName))
            {
                var waitsFor = declared.Count > 0 ? string.Join(", ", declared.Select(e => e.Name)) : "none";
                return Problems.Create(request, StatusCodes.Status404NotFound, "Not found",
                    $"Jobs of type {job.Type} wait for no event named '{Problems.Printable(eventName)}' (they wait for: {waitsFor}).",
                    [new InputError("eventName", $"is not an event jobs of type {job.Type} wait for")]);
            }
            var metadata = await durable.GetInstanceAsync(job.Id, cancellation)
                ?? throw ApiProblemException.NotFound($"The orchestration of job {job.Id}");
            if (!DurableStatusPayload.IsRunning(metadata.RuntimeStatus))
            {
                return Problems.Create(request, StatusCodes.Status410Gone, "Gone", $"Job {job.Id} has already ended.");
            }
            if (!await inbox.TryReserveAsync(job.Id, limits.MaxPendingPerJob, cancellation))
            {
                return Problems.Create(request, StatusCodes.Status409Conflict, "Conflict",
                    $"Job {job.Id} already has {limits.MaxPendingPerJob} raised events its orchestration has not consumed; raise more once it has.",
                    [new InputError("eventName", $"job {job.Id} has {limits.MaxPendingPerJob} events waiting to be consumed")]);
            }
            try
            {
                await durable.RaiseEventAsync(job.Id, eventName, payload, cancellation);
            }
            catch (Exception ex) when (DurableInstanceErrors.IsEnded(ex) || DurableInstanceErrors.IsUnknown(ex))
            {
                await inbox.ReleaseAsync(job.Id, CancellationToken.None);
                // It ended (or was terminated) after the read: what the native API answers for an ended instance.
                return DurableInstanceErrors.IsEnded(ex)
                    ? Problems.Create(request, StatusCodes.Status410Gone, "Gone", $"Job {job.Id} has already ended.")
                    : throw ApiProblemException.NotFound($"The orchestration of job {job.Id}");
            }
            catch
            {
                await inbox.ReleaseAsync(job.Id, CancellationToken.None);
                throw;
            }
            await audit.AppendAsync(job.Id, audit.NewEntry(AuditActions.EventRaised, guard.Actor(request, caller), ("eventName", eventName)), CancellationToken.None);
            return new ApiResult(StatusCodes.Status202Accepted, null);
        });

    /// <summary>
    /// The instance's history. The worker's gRPC client throws ArgumentException for an instance that is gone
    /// (GrpcDurableTaskClient.GetOrchestrationHistoryAsync on the extension's NotFound): purged after the status read,
    /// the orchestration is not there, which is a 404 like a missing one, not a 500.
    /// </summary>
    private static async Task<System.Text.Json.Nodes.JsonArray> HistoryAsync(DurableTaskClient durable, string id, CancellationToken cancellation)
    {
        try
        {
            return DurableStatusPayload.History(await durable.GetOrchestrationHistoryAsync(id, cancellation));
        }
        catch (ArgumentException)
        {
            throw ApiProblemException.NotFound($"The orchestration of job {id}");
        }
    }

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
            if (purged.PurgedInstanceCount > 0)
            {
                await audit.AppendAsync(job.Id, audit.NewEntry(AuditActions.InstancePurged, guard.Actor(request, caller)), CancellationToken.None);
            }
            return ApiResult.Ok(new PurgeResult(purged.PurgedInstanceCount));
        });
}
