using Jobs.Functions.Concurrency;
using Jobs.Functions.Handlers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary>A job type's slots as the pause and resume routes answer: paused or not, jobs holding slots, jobs waiting.</summary>
public sealed record JobTypeSlotsView(string Type, bool Paused, int Running, int Queued);

/// <summary>
/// <c>POST /api/job-types/{type}/pause</c> and <c>/resume</c> (admins): a paused type still accepts jobs, which wait
/// <c>queued</c> ("type paused"), and starts none; its running jobs finish. Resuming starts the queued jobs its limits
/// allow, in priority then arrival order. Both are idempotent: 200 with the type's slots. An unknown type is a 404
/// naming <c>type</c>; a caller who is not an admin gets 403; nothing changes.
/// </summary>
public sealed class JobTypeControlFunctions(ApiGuard guard, JobHandlerRegistry handlers, JobSlots slots)
{
    [Function(nameof(PauseJobType))]
    public Task<IActionResult> PauseJobType(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "job-types/{type}/pause")] HttpRequest request, string type,
        [DurableClient] DurableTaskClient durable) =>
        SetPausedAsync(request, type, paused: true, durable);

    [Function(nameof(ResumeJobType))]
    public Task<IActionResult> ResumeJobType(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "job-types/{type}/resume")] HttpRequest request, string type,
        [DurableClient] DurableTaskClient durable) =>
        SetPausedAsync(request, type, paused: false, durable);

    private Task<IActionResult> SetPausedAsync(HttpRequest request, string type, bool paused, DurableTaskClient durable) =>
        guard.RunAsync(request, [], async caller =>
        {
            if (!caller.IsAdmin)
            {
                throw new ApiProblemException(StatusCodes.Status403Forbidden, "Forbidden", "Only admins may pause or resume a job type.");
            }
            if (!handlers.TryGet(type, out var handler))
            {
                throw new ApiProblemException(StatusCodes.Status404NotFound, "Not found",
                    $"'{Problems.Printable(type)}' is not a known job type; known types: {string.Join(", ", handlers.TypeNames)}",
                    [new InputError("type", "is not a known job type")]);
            }
            var cancellation = request.HttpContext.RequestAborted;
            var woken = await slots.SetPausedAsync(handler.Type, paused, cancellation);
            await slots.WakeAsync(durable, woken, cancellation);
            var state = await slots.ReadAsync(handler.Type, cancellation);
            return ApiResult.Ok(new JobTypeSlotsView(handler.Type, state.Paused, state.Holders.Count, state.Waiting));
        });
}
