using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Api;

/// <summary>
/// <c>GET /api/jobs/{id}/events</c>: the job as a Server-Sent Events stream (<see cref="JobEventStream"/>), for the
/// caller's own jobs (another's → 404, as <c>/status</c>). <c>Last-Event-ID</c> resumes exactly after that event; an
/// id of an <c>end</c> gets 204, which tells <c>EventSource</c> to stop reconnecting. Runs on the ASP.NET Core
/// integration's HTTP streaming under the Functions host, and as is in the local runner.
/// </summary>
public sealed partial class GetJobEventsFunction(ApiGuard guard, JobEventStream streams, ILogger<GetJobEventsFunction> logger)
{
    public const string LastEventIdHeader = "Last-Event-ID";

    [Function(nameof(GetJobEvents))]
    public Task<IActionResult> GetJobEvents(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/events")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            EventPosition? resume = null;
            var lastEventId = request.Headers[LastEventIdHeader].ToString();
            if (lastEventId.Length > 0 && !EventPosition.TryParse(lastEventId, out resume))
            {
                throw ApiProblemException.BadParameter(LastEventIdHeader, "is not the id of an event of this stream");
            }
            var aborted = request.HttpContext.RequestAborted;
            var job = await guard.GetVisibleJobAsync(id, caller, aborted);
            if (resume is { Ended: true })
            {
                return new StatusCodeResult(StatusCodes.Status204NoContent);
            }
            using var slot = streams.TryOpen(caller.Id);
            if (slot is null)
            {
                throw new ApiProblemException(StatusCodes.Status429TooManyRequests, "Too many streams",
                    "This caller already has as many event streams open as allowed; close one or poll /status.");
            }

            var response = request.HttpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream; charset=utf-8";
            response.Headers.CacheControl = "no-cache, no-store";
            response.Headers["X-Accel-Buffering"] = "no"; // proxies that buffer (nginx) pass it through at once
            request.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await response.StartAsync(aborted);
            try
            {
                await streams.RunAsync(job, resume, async (text, token) =>
                {
                    await response.WriteAsync(text, token);
                    await response.Body.FlushAsync(token);
                }, aborted);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // the client went away: the normal way a stream ends
            }
            catch (Exception ex) when (ex is Azure.RequestFailedException or IOException)
            {
                // Storage trouble or a broken connection after the response started: end the stream; the client resumes.
                LogStreamFailed(ex, id);
            }
            return new EmptyResult();
        });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event stream of job {JobId} ended early; the client resumes from its last event id.")]
    private partial void LogStreamFailed(Exception exception, string jobId);
}
