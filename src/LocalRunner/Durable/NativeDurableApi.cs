using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DurableTask.Core.Exceptions;
using Grpc.Core;
using Jobs.Functions.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using CoreStatus = DurableTask.Core.OrchestrationStatus;

namespace Jobs.LocalRunner.Durable;

/// <summary>
/// The Durable Functions extension's HTTP API (<c>/runtime/webhooks/durabletask</c>), which the Functions host
/// serves beside the app's own routes. Behaviour follows the extension's HttpApiHandler (3.18.0, the version the app's
/// worker extension names): status codes, empty bodies where it answers with a bare status, its error bodies
/// (<c>{"Message": …}</c>), Location/Retry-After, body shapes, filters, <c>x-ms-continuation-token</c> paging and the
/// start route. Keys are checked by the runner's routing (RunnerHost), as the host checks a webhook's system key
/// before the extension sees the request.
/// </summary>
public static class NativeDurableApi
{
    public const string BasePath = "/runtime/webhooks/durabletask";
    private const string ContinuationHeader = "x-ms-continuation-token";

    public static void Map(IEndpointRouteBuilder app, string hubName)
    {
        var group = app.MapGroup(BasePath).AddEndpointFilter(async (context, next) =>
        {
            var request = context.HttpContext.Request;
            var hub = request.Query["taskHub"].FirstOrDefault();
            if (hub is not null && !string.Equals(hub, hubName, StringComparison.OrdinalIgnoreCase))
            {
                // The extension looks the instance up in the named hub, where this host has none: a bare 404.
                return Bare(context.HttpContext, StatusCodes.Status404NotFound);
            }
            return await next(context);
        });

        group.MapPost("/orchestrators/{functionName}/{instanceId?}", StartAsync);
        group.MapGet("/instances/{instanceId}", GetInstanceAsync);
        group.MapGet("/instances", ListInstancesAsync);
        group.MapDelete("/instances/{instanceId}", PurgeInstanceAsync);
        group.MapDelete("/instances", PurgeInstancesAsync);
        group.MapPost("/instances/{instanceId}/terminate", (HttpContext c, string instanceId, DurableTaskClient d, DurableEngine e) =>
            ControlAsync(c, instanceId, d, (id, reason) => e.Client.TerminateAsTextAsync(id, reason)));
        group.MapPost("/instances/{instanceId}/suspend", (HttpContext c, string instanceId, DurableTaskClient d) =>
            ControlAsync(c, instanceId, d, (id, reason) => d.SuspendInstanceAsync(id, reason, c.RequestAborted)));
        group.MapPost("/instances/{instanceId}/resume", (HttpContext c, string instanceId, DurableTaskClient d) =>
            ControlAsync(c, instanceId, d, (id, reason) => d.ResumeInstanceAsync(id, reason, c.RequestAborted)));
        group.MapPost("/instances/{instanceId}/raiseEvent/{eventName}", RaiseEventAsync);
        group.MapPost("/instances/{instanceId}/restart", RestartAsync);
        // Anything else under the base path: the handler's bare 404.
        group.Map("/{**rest}", (HttpContext c) => Bare(c, StatusCodes.Status404NotFound));
    }

    /// <summary>
    /// POST <c>/orchestrators/{functionName}[/{instanceId}]</c>: the body (JSON, optional) is the input; an id that is
    /// still live is refused with 409; with <c>timeout</c> and <c>pollingInterval</c> (seconds) it waits for the end.
    /// </summary>
    private static async Task StartAsync(HttpContext context, string functionName, string? instanceId, DurableEngine engine)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(context.RequestAborted);
        string? input = null;
        if (text.Length > 0)
        {
            try
            {
                input = LenientJson(text);
            }
            catch (Newtonsoft.Json.JsonException ex)
            {
                await Error(context, StatusCodes.Status400BadRequest, "Invalid JSON content", ex);
                return;
            }
        }
        var id = string.IsNullOrEmpty(instanceId) ? Guid.NewGuid().ToString("N") : instanceId;
        var timeout = Seconds(request, "timeout");
        var interval = Seconds(request, "pollingInterval");
        if (timeout is { } total && interval is { } every && every > total)
        {
            await Error(context, StatusCodes.Status400BadRequest,
                $"Total timeout {total.TotalSeconds} should be bigger than retry timeout {every.TotalSeconds}");
            return;
        }
        try
        {
            await engine.Client.StartAsync(functionName, id, input, request.Query["version"].FirstOrDefault() ?? "");
        }
        catch (OrchestrationAlreadyExistsException ex)
        {
            await Error(context, StatusCodes.Status409Conflict, ex.Message);
            return;
        }
        await RespondStartedAsync(context, engine, id, timeout, interval);
    }

    /// <summary>
    /// POST <c>/instances/{instanceId}/restart</c>, as HttpApiHandler.HandleRestartInstanceRequestAsync over
    /// DurableClient.RestartAsync: the instance's name and input start again, under a new id unless
    /// <c>restartWithNewInstanceId=false</c>; then the start route's answer (202 with the check-status payload, or the
    /// wait). An unknown instance is 400 "InstanceId does not match a valid orchestration instance."; the same id while
    /// it is still live is refused by the start's dedupe (the handler's catch-all 500).
    /// </summary>
    private static async Task RestartAsync(HttpContext context, string instanceId, DurableEngine engine)
    {
        var request = context.Request;
        var metadata = await engine.Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, context.RequestAborted);
        if (metadata is null)
        {
            await Error(context, StatusCodes.Status400BadRequest, "InstanceId does not match a valid orchestration instance.",
                new ArgumentException($"An orchestrastion with the instanceId {instanceId} was not found."));
            return;
        }
        var newId = Flag(request, "restartWithNewInstanceId", true) ? Guid.NewGuid().ToString("N") : instanceId;
        try
        {
            await engine.Client.StartAsync(metadata.Name, newId, metadata.SerializedInput, "");
        }
        catch (OrchestrationAlreadyExistsException ex)
        {
            await Error(context, StatusCodes.Status500InternalServerError, "Something went wrong while processing your request", ex);
            return;
        }
        var timeout = Seconds(request, "timeout");
        var interval = Seconds(request, "pollingInterval");
        if (timeout is { } total && interval is { } every && every > total)
        {
            // The wait's ArgumentException, caught by the restart handler's own catch.
            await Error(context, StatusCodes.Status400BadRequest, "InstanceId does not match a valid orchestration instance.",
                new ArgumentException($"Total timeout {total.TotalSeconds} should be bigger than retry timeout {every.TotalSeconds}"));
            return;
        }
        await RespondStartedAsync(context, engine, newId, timeout, interval);
    }

    /// <summary>The start route's answer once the instance is scheduled: the wait when asked for, else 202 and the links.</summary>
    private static async Task RespondStartedAsync(HttpContext context, DurableEngine engine, string id, TimeSpan? timeout, TimeSpan? interval)
    {
        var request = context.Request;
        if (timeout is { } wait && interval is { } poll)
        {
            var metadata = await WaitForEndAsync(engine.Client, id, wait, poll, context.RequestAborted);
            if (metadata?.RuntimeStatus == OrchestrationRuntimeStatus.Completed)
            {
                await Execute(context, new ApiResult(StatusCodes.Status200OK, DurableStatusPayload.Build(metadata, true, null)["output"] ?? JsonValue.Create((string?)null)));
                return;
            }
            if (metadata is { IsCompleted: true })
            {
                await Execute(context, DurableStatusPayload.Respond(request, metadata, true, null, false));
                return;
            }
        }
        var links = Links(context, engine, id);
        await Execute(context, new ApiResult(StatusCodes.Status202Accepted, links)
            .WithHeader("Location", (string)links["statusQueryGetUri"]!)
            .WithHeader("Retry-After", "10"));
    }

    private static async Task<OrchestrationMetadata?> WaitForEndAsync(DurableTaskClient durable, string id, TimeSpan timeout, TimeSpan interval, CancellationToken cancellation)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var metadata = await durable.GetInstanceAsync(id, getInputsAndOutputs: true, cancellation);
            if (metadata is { IsCompleted: true } || clock.Elapsed >= timeout)
            {
                return metadata;
            }
            var left = timeout - clock.Elapsed;
            await Task.Delay(left > interval ? interval : left, cancellation);
        }
    }

    /// <summary>The check-status payload, as HttpApiHandler.CreateCheckStatusResponseMessage writes it.</summary>
    private static JsonObject Links(HttpContext context, DurableEngine engine, string id)
    {
        var baseUrl = context.RequestServices.GetRequiredService<PublicUrls>().BaseUrl(context.Request);
        var instance = $"{baseUrl}{BasePath}/instances/{Uri.EscapeDataString(id)}";
        var query = engine.Client.QueryString;
        return new JsonObject
        {
            ["id"] = id,
            ["statusQueryGetUri"] = $"{instance}?{query}",
            ["sendEventPostUri"] = $"{instance}/raiseEvent/{{eventName}}?{query}",
            ["terminatePostUri"] = $"{instance}/terminate?reason={{text}}&{query}",
            ["purgeHistoryDeleteUri"] = $"{instance}?{query}",
            ["restartPostUri"] = $"{instance}/restart?{query}",
            ["suspendPostUri"] = $"{instance}/suspend?reason={{text}}&{query}",
            ["resumePostUri"] = $"{instance}/resume?reason={{text}}&{query}",
        };
    }

    private static async Task GetInstanceAsync(HttpContext context, string instanceId, DurableTaskClient durable, DurableEngine engine)
    {
        var request = context.Request;
        var showHistory = Flag(request, "showHistory", false);
        var showHistoryOutput = Flag(request, "showHistoryOutput", false);
        var showInput = Flag(request, "showInput", true);
        var failAs500 = Flag(request, "returnInternalServerErrorOnFailure", false);
        var metadata = await durable.GetInstanceAsync(instanceId, getInputsAndOutputs: true, context.RequestAborted);
        if (metadata is null)
        {
            await Bare(context, StatusCodes.Status404NotFound).ExecuteAsync(context);
            return;
        }
        // The extension reads no history for an instance that has not started.
        var history = showHistory && metadata.RuntimeStatus != OrchestrationRuntimeStatus.Pending
            ? DurableHistory.Shape(await engine.ReadHistoryAsync(instanceId), showHistoryOutput, showInput)
            : null;
        await Execute(context, DurableStatusPayload.Respond(request, metadata, showInput, history, failAs500));
    }

    private static async Task ListInstancesAsync(HttpContext context, DurableTaskClient durable)
    {
        var request = context.Request;
        var statuses = Statuses<OrchestrationRuntimeStatus>(request);
        var top = int.TryParse(request.Query["top"].FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) ? t : 100;
        var showInput = Flag(request, "showInput", true);
        var query = new OrchestrationQuery
        {
            Statuses = statuses.Count == 0 ? null : statuses,
            CreatedFrom = Time(request, "createdTimeFrom"),
            CreatedTo = Time(request, "createdTimeTo"),
            InstanceIdPrefix = request.Query["instanceIdPrefix"].FirstOrDefault(),
            PageSize = top,
            FetchInputsAndOutputs = showInput,
            ContinuationToken = request.Headers[ContinuationHeader].FirstOrDefault(),
        };
        await foreach (var page in durable.GetAllInstancesAsync(query).AsPages(query.ContinuationToken, top))
        {
            if (!string.IsNullOrEmpty(page.ContinuationToken))
            {
                context.Response.Headers[ContinuationHeader] = page.ContinuationToken;
            }
            var body = new JsonArray([.. page.Values.Select(m => (JsonNode)DurableStatusPayload.Build(m, showInput, null))]);
            await Execute(context, new ApiResult(StatusCodes.Status200OK, body));
            return;
        }
        await Execute(context, new ApiResult(StatusCodes.Status200OK, new JsonArray()));
    }

    // As the extension 3.18.0's HttpApiHandler.HandleDeleteHistoryByIdRequestAsync (the version the worker extension
    // loads): unknown → 404 with no body; not in a terminal state → 412 with its message as a JSON string; else the
    // purge result. (An earlier handler did not check; 3.18.0 does. The filtered purge below does not check.)
    private static async Task PurgeInstanceAsync(HttpContext context, string instanceId, DurableEngine engine)
    {
        var metadata = await engine.Client.GetInstanceAsync(instanceId, context.RequestAborted);
        if (metadata is null)
        {
            await Bare(context, StatusCodes.Status404NotFound).ExecuteAsync(context);
            return;
        }
        if (!IsEnded(metadata.RuntimeStatus))
        {
            await Execute(context, new ApiResult(StatusCodes.Status412PreconditionFailed,
                $"Only orchestrations in a terminal state can be purged, but the orchestration with instance ID {instanceId} has status {metadata.RuntimeStatus}"));
            return;
        }
        var deleted = await engine.Client.PurgeStateAsync(instanceId);
        await Execute(context, ApiResult.Ok(new { instancesDeleted = deleted }));
    }

    private static async Task PurgeInstancesAsync(HttpContext context, DurableTaskClient durable)
    {
        var from = Time(context.Request, "createdTimeFrom");
        if (from is null)
        {
            // The handler answers with a bare JSON string here, not an error object.
            await Execute(context, new ApiResult(StatusCodes.Status400BadRequest, "Please provide value for 'createdTimeFrom' parameter."));
            return;
        }
        var statuses = Statuses<CoreStatus>(context.Request).Select(s => (OrchestrationRuntimeStatus)(int)s).ToList();
        var result = await durable.PurgeAllInstancesAsync(
            new PurgeInstancesFilter(from, Time(context.Request, "createdTimeTo") ?? DateTimeOffset.UtcNow, statuses.Count == 0 ? null : statuses),
            cancellation: context.RequestAborted);
        if (result.PurgedInstanceCount == 0)
        {
            await Bare(context, StatusCodes.Status404NotFound).ExecuteAsync(context);
            return;
        }
        await Execute(context, ApiResult.Ok(new { instancesDeleted = result.PurgedInstanceCount }));
    }

    /// <summary>
    /// Terminate, suspend, resume: 404 for an unknown instance, 410 for one that has ended, else 202. When the client
    /// refuses anyway (resume of a running instance, suspend of a suspended one, or it ended after the read) the
    /// handler's catch-all answers 500 with the exception; when it was purged after the read, 400 (see <see cref="Refused"/>).
    /// </summary>
    private static async Task ControlAsync(HttpContext context, string instanceId, DurableTaskClient durable, Func<string, string?, Task> action)
    {
        if (await RefuseUnlessLiveAsync(context, instanceId, durable, ended: IsEnded))
        {
            return;
        }
        try
        {
            await action(instanceId, context.Request.Query["reason"].FirstOrDefault());
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound)
        {
            await Refused(context, ex);
            return;
        }
        await Bare(context, StatusCodes.Status202Accepted).ExecuteAsync(context);
    }

    /// <summary>
    /// A request body read as the extension reads it, with Newtonsoft.Json (HttpApiHandler: the start route's
    /// JsonConvert.DeserializeObject, raise event's MessagePayloadDataConverter.ConvertToJToken), so what it accepts
    /// beyond strict JSON — single quotes, unquoted names, comments, trailing commas — is accepted here too; the value
    /// is stored as the extension re-serialises it (plain JSON; null for <c>null</c>). Throws Newtonsoft's JsonException
    /// for what it refuses.
    /// </summary>
    internal static string? LenientJson(string text)
    {
        var settings = new Newtonsoft.Json.JsonSerializerSettings { DateParseHandling = Newtonsoft.Json.DateParseHandling.None };
        var value = Newtonsoft.Json.JsonConvert.DeserializeObject(text, settings);
        return value is null ? null : Newtonsoft.Json.JsonConvert.SerializeObject(value, Newtonsoft.Json.Formatting.None);
    }

    /// <summary>404 for an unknown instance, 410 for one that has ended: true when it answered.</summary>
    private static async Task<bool> RefuseUnlessLiveAsync(HttpContext context, string instanceId, DurableTaskClient durable, Func<OrchestrationRuntimeStatus, bool> ended)
    {
        var metadata = await durable.GetInstanceAsync(instanceId, context.RequestAborted);
        if (metadata is not null && !ended(metadata.RuntimeStatus))
        {
            return false;
        }
        await Bare(context, metadata is null ? StatusCodes.Status404NotFound : StatusCodes.Status410Gone).ExecuteAsync(context);
        return true;
    }

    /// <summary>The instance's status first (404/410), then the content type (400), then the JSON (400), as the handler checks.</summary>
    private static async Task RaiseEventAsync(HttpContext context, string instanceId, string eventName, DurableTaskClient durable)
    {
        if (await RefuseUnlessLiveAsync(context, instanceId, durable, ended: IsEnded))
        {
            return;
        }
        if (!string.Equals(context.Request.ContentType?.Split(';')[0].Trim(), "application/json", StringComparison.OrdinalIgnoreCase))
        {
            await Error(context, StatusCodes.Status400BadRequest, "Only application/json request content is supported");
            return;
        }
        JsonNode? payload;
        try
        {
            using var reader = new StreamReader(context.Request.Body);
            payload = LenientJson(await reader.ReadToEndAsync(context.RequestAborted)) is { } json ? JsonNode.Parse(json) : null;
        }
        catch (Newtonsoft.Json.JsonException ex)
        {
            await Error(context, StatusCodes.Status400BadRequest, "Invalid JSON content", ex);
            return;
        }
        try
        {
            await durable.RaiseEventAsync(instanceId, eventName, payload, context.RequestAborted);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound)
        {
            await Refused(context, ex);
            return;
        }
        await Bare(context, StatusCodes.Status202Accepted).ExecuteAsync(context);
    }

    /// <summary>HttpApiHandler.IsCompletedStatus: the statuses it answers 410 for.</summary>
    private static bool IsEnded(OrchestrationRuntimeStatus status) => status is OrchestrationRuntimeStatus.Completed
        or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated
#pragma warning disable CS0618 // Canceled is obsolete in the SDK but is one of the ended statuses the handler lists.
        or OrchestrationRuntimeStatus.Canceled;
#pragma warning restore CS0618

    /// <summary>A status with no body (and no status-code page written over it).</summary>
    private static IResult Bare(HttpContext context, int status)
    {
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages)
        {
            pages.Enabled = false;
        }
        return Results.StatusCode(status);
    }

    /// <summary>The extension's error body: <c>{"Message": …}</c>, with the exception's details when there is one.</summary>
    private static Task Error(HttpContext context, int status, string message, Exception? exception = null)
    {
        var body = new JsonObject { ["Message"] = message };
        if (exception is not null)
        {
            body["ExceptionMessage"] = exception.Message;
            body["ExceptionType"] = exception.GetType().FullName;
            body["StackTrace"] = exception.StackTrace;
        }
        return Execute(context, new ApiResult(status, body));
    }

    /// <summary>
    /// The client refused after the handler's status check, because the instance changed in between. HttpApiHandler.
    /// HandleRequestAsync answers what DurableClient threw: an ArgumentException (the instance is gone — purged
    /// meanwhile) is 400 "One or more of the arguments submitted is incorrect"; anything else (it ended meanwhile, or
    /// its state refuses the operation) is the catch-all 500.
    /// </summary>
    private static Task Refused(HttpContext context, RpcException exception)
    {
        var thrown = Unwrapped(exception);
        return thrown is ArgumentException
            ? Error(context, StatusCodes.Status400BadRequest, "One or more of the arguments submitted is incorrect", thrown)
            : Error(context, StatusCodes.Status500InternalServerError, "Something went wrong while processing your request", thrown);
    }

    /// <summary>
    /// What the in-process DurableClient threw, which the handler reports: the gRPC text carries its type first, except
    /// raise event's NotFound, which is the ArgumentException's bare text (TaskHubGrpcServer.RaiseEvent).
    /// </summary>
    private static Exception Unwrapped(RpcException exception)
    {
        var detail = exception.Status.Detail;
        const string invalid = "InvalidOperationException: ", argument = "ArgumentException: ";
        return detail.StartsWith(invalid, StringComparison.Ordinal) ? new InvalidOperationException(detail[invalid.Length..])
            : detail.StartsWith(argument, StringComparison.Ordinal) ? new ArgumentException(detail[argument.Length..])
            : exception.StatusCode == StatusCode.NotFound ? new ArgumentException(detail)
            : new InvalidOperationException(detail);
    }

    /// <summary>Comma-separated status names; the handler skips the ones it cannot parse (case-sensitive, as Enum.TryParse).</summary>
    private static List<T> Statuses<T>(HttpRequest request) where T : struct, Enum =>
        [.. request.Query["runtimeStatus"].SelectMany(v => (v ?? "").Split(','))
            .Select(s => Enum.TryParse<T>(s, out var status) ? (T?)status : null).OfType<T>()];

    private static bool Flag(HttpRequest request, string name, bool fallback) =>
        bool.TryParse(request.Query[name].FirstOrDefault(), out var value) ? value : fallback;

    private static TimeSpan? Seconds(HttpRequest request, string name) =>
        double.TryParse(request.Query[name].FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? TimeSpan.FromSeconds(value) : null;

    private static DateTimeOffset? Time(HttpRequest request, string name) =>
        DateTimeOffset.TryParse(request.Query[name].FirstOrDefault(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value : null;

    private static Task Execute(HttpContext context, IActionResult result) =>
        result.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));
}
