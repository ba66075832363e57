using Azure;
using Jobs.Functions.Handlers;
using Jobs.Functions.Identity;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Functions.Submissions;
using Jobs.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Api;

/// <summary>
/// What every endpoint does around its own logic: refuse unknown query parameters, refuse a state change a page of
/// another site may have sent (<see cref="CrossSiteRequests"/>), identify the caller, and map every failure to one
/// problem response. The single mapping from errors to status codes lives here.
/// </summary>
public sealed partial class ApiGuard(CallerResolver callers, CrossSiteRequests crossSite, JobStore store, PublicUrls urls, ILogger<ApiGuard> logger)
{
    /// <summary>Query parameters the Functions platform itself may add (the function key).</summary>
    private static readonly string[] PlatformParameters = ["code"];

    public async Task<IActionResult> RunAsync(HttpRequest request, IReadOnlyCollection<string> allowedQuery, Func<Caller, Task<IActionResult>> action)
    {
        try
        {
            foreach (var key in request.Query.Keys)
            {
                if (!allowedQuery.Contains(key, StringComparer.Ordinal) && !PlatformParameters.Contains(key, StringComparer.Ordinal))
                {
                    var known = allowedQuery.Count == 0 ? "this endpoint takes none" : "known: " + string.Join(", ", allowedQuery);
                    throw ApiProblemException.BadParameter(Problems.Printable(key), $"is not a known query parameter ({known})");
                }
            }
            crossSite.Check(request);
            var caller = callers.Resolve(request)
                ?? throw new ApiProblemException(StatusCodes.Status401Unauthorized, "Unauthorized", "This endpoint needs a signed-in caller.");
            return await action(caller);
        }
        catch (ApiProblemException problem)
        {
            return Problems.From(request, problem);
        }
        catch (InputValidationException invalid)
        {
            return Problems.Create(request, StatusCodes.Status400BadRequest, "Invalid request",
                string.Join("; ", invalid.Errors.Select(e => $"{e.Field}: {e.Message}")), invalid.Errors);
        }
        catch (IdempotencyKeyReusedException reused)
        {
            // IETF httpapi-idempotency-key draft: a key reused with a different payload is 422, naming where the key came from.
            var field = request.Headers.ContainsKey(CreateJobFunction.IdempotencyHeader) ? CreateJobFunction.IdempotencyHeader : "idempotencyKey";
            return Problems.Create(request, StatusCodes.Status422UnprocessableEntity, "Idempotency key reused", reused.Message,
                [new InputError(field, "was already used for a different request")]);
        }
        catch (JobStateException state)
        {
            return Problems.Create(request, StatusCodes.Status409Conflict, "Conflict", state.Message,
                state.Field is { } field ? [new InputError(field, state.Message)] : null);
        }
        catch (WebhookLimitException limit)
        {
            return Problems.Create(request, StatusCodes.Status409Conflict, "Too many webhooks", limit.Message,
                [new InputError("webhooks", $"at most {limit.Max} subscriptions per owner")]);
        }
        catch (WebhookScopeException scope)
        {
            return Problems.Create(request, StatusCodes.Status403Forbidden, "Forbidden", scope.Message,
                [new InputError("allJobs", "only admins may subscribe to every owner's jobs")]);
        }
        catch (Schedules.ScheduleGoneException gone)
        {
            return Problems.Create(request, StatusCodes.Status404NotFound, "Not found", gone.Message);
        }
        catch (InvalidPrincipalException principal)
        {
            return Problems.Create(request, StatusCodes.Status401Unauthorized, "Unauthorized", principal.Message);
        }
        catch (Exception storage) when (IsStorageUnavailable(storage))
        {
            LogStorageUnavailable(storage, request.Method, request.Path.Value);
            return Problems.Create(request, StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                "Job storage cannot be reached right now. Try again shortly; a create repeated with the same Idempotency-Key returns the job if the first try recorded it.").WithHeader("Retry-After", "5");
        }
        catch (OperationCanceledException) when (request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception unexpected)
        {
            LogUnexpected(unexpected, request.Method, request.Path.Value);
            return Problems.Create(request, StatusCodes.Status500InternalServerError, "Unexpected error",
                "The request could not be completed. The error was logged.");
        }
    }

    /// <summary>The job, if it exists and the caller may see it; otherwise a 404 that does not reveal which.</summary>
    public async Task<Job> GetVisibleJobAsync(string id, Caller caller, CancellationToken cancellationToken)
    {
        JobIds.Require(id);
        var job = await store.GetAsync(id, cancellationToken);
        return job is not null && caller.CanAccess(job.Owner) ? job : throw ApiProblemException.NotFound($"Job {id}");
    }

    /// <summary>
    /// The caller as the audit trail names them: principal id, name and identity provider, and the client address as
    /// far as it is trusted (<see cref="PublicUrls.ClientAddress"/>).
    /// </summary>
    public AuditActor Actor(HttpRequest request, Caller caller) =>
        AuditActor.User(caller.Id, caller.Name, caller.IdentityProvider, urls.ClientAddress(request));

    /// <summary>Storage down or failing, however deep the SDK or the durable backend wrapped it.</summary>
    internal static bool IsStorageUnavailable(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is RequestFailedException { Status: 0 or >= 500 } or HttpRequestException or System.Net.Sockets.SocketException)
            {
                return true;
            }
            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsStorageUnavailable))
            {
                return true;
            }
        }
        return false;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage unavailable serving {Method} {Path}.")]
    private partial void LogStorageUnavailable(Exception exception, string method, string? path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected error serving {Method} {Path}.")]
    private partial void LogUnexpected(Exception exception, string method, string? path);
}
