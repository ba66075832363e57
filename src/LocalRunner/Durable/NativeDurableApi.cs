using System.Globalization;
using System.Text.Json.Nodes;
using DurableTask.AzureStorage;
using Jobs.Functions.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Jobs.LocalRunner.Durable;

/// <summary>
/// The Durable Functions extension's HTTP API (<c>/runtime/webhooks/durabletask</c>), which the Functions host
/// serves beside the app's own routes. Behaviour follows the extension's HttpApiHandler: status codes,
/// Location/Retry-After, body shapes, filters and <c>x-ms-continuation-token</c> paging. Keys are checked by the
/// caller's routing (RunnerHost), as the host checks a webhook's system key before the extension sees the request.
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
                return Results.Problem(statusCode: 404, title: "Not found", detail: $"This host serves task hub {hubName} only.");
            }
            return await next(context);
        });

        group.MapGet("/instances/{instanceId}", GetInstanceAsync);
        group.MapGet("/instances", ListInstancesAsync);
        group.MapDelete("/instances/{instanceId}", PurgeInstanceAsync);
        group.MapDelete("/instances", PurgeInstancesAsync);
        group.MapPost("/instances/{instanceId}/terminate", (HttpContext c, string instanceId, DurableTaskClient d) =>
            ControlAsync(c, instanceId, d, (id, reason) => d.TerminateInstanceAsync(id, reason, c.RequestAborted)));
        group.MapPost("/instances/{instanceId}/suspend", (HttpContext c, string instanceId, DurableTaskClient d) =>
            ControlAsync(c, instanceId, d, (id, reason) => d.SuspendInstanceAsync(id, reason, c.RequestAborted)));
        group.MapPost("/instances/{instanceId}/resume", (HttpContext c, string instanceId, DurableTaskClient d) =>
            ControlAsync(c, instanceId, d, (id, reason) => d.ResumeInstanceAsync(id, reason, c.RequestAborted)));
        group.MapPost("/instances/{instanceId}/raiseEvent/{eventName}", RaiseEventAsync);
    }

    private static async Task GetInstanceAsync(HttpContext context, string instanceId, DurableTaskClient durable, DurableEngine engine)
    {
        var request = context.Request;
        var showHistory = Flag(request, "showHistory", false);
        var showInput = Flag(request, "showInput", true);
        var failAs500 = Flag(request, "returnInternalServerErrorOnFailure", false);
        var metadata = await durable.GetInstanceAsync(instanceId, getInputsAndOutputs: true, context.RequestAborted);
        if (metadata is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        var history = showHistory ? await engine.ReadHistoryAsync(instanceId) : null;
        await Execute(context, DurableStatusPayload.Respond(request, metadata, showInput, history, failAs500));
    }

    private static async Task ListInstancesAsync(HttpContext context, DurableTaskClient durable)
    {
        var request = context.Request;
        var statuses = request.Query["runtimeStatus"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(s => Enum.Parse<OrchestrationRuntimeStatus>(s, ignoreCase: true)).ToList();
        var top = int.TryParse(request.Query["top"].FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : 100;
        var showInput = Flag(request, "showInput", false);
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

    // As the extension's HttpApiHandler.HandleDeleteHistoryByIdRequestAsync (Azure/azure-functions-durable-extension):
    // it purges whatever the storage backend purges — it does not check the runtime status itself — and answers 404
    // when nothing was deleted. The Azure Storage backend purges a running instance too (the job's reconciler then
    // ends the job, see JobReconciler).
    private static async Task PurgeInstanceAsync(HttpContext context, string instanceId, DurableTaskClient durable)
    {
        var result = await durable.PurgeInstanceAsync(instanceId, cancellation: context.RequestAborted);
        if (result.PurgedInstanceCount == 0)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        await Execute(context, ApiResult.Ok(new { instancesDeleted = result.PurgedInstanceCount }));
    }

    private static async Task PurgeInstancesAsync(HttpContext context, DurableTaskClient durable)
    {
        var from = Time(context.Request, "createdTimeFrom");
        if (from is null)
        {
            await Execute(context, Problems.Create(context.Request, 400, "Invalid request", "createdTimeFrom is required."));
            return;
        }
        var statuses = context.Request.Query["runtimeStatus"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            .Select(s => Enum.Parse<OrchestrationRuntimeStatus>(s, ignoreCase: true)).ToList();
        var result = await durable.PurgeAllInstancesAsync(
            new PurgeInstancesFilter(from, Time(context.Request, "createdTimeTo"), statuses.Count == 0 ? null : statuses), cancellation: context.RequestAborted);
        if (result.PurgedInstanceCount == 0)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        await Execute(context, ApiResult.Ok(new { instancesDeleted = result.PurgedInstanceCount }));
    }

    private static async Task ControlAsync(HttpContext context, string instanceId, DurableTaskClient durable, Func<string, string, Task> action)
    {
        if (await RefuseUnlessLiveAsync(context, instanceId, durable))
        {
            return;
        }
        await action(instanceId, context.Request.Query["reason"].FirstOrDefault() ?? "");
        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    /// <summary>404 for an unknown instance, 410 for one that has ended: true when it answered.</summary>
    private static async Task<bool> RefuseUnlessLiveAsync(HttpContext context, string instanceId, DurableTaskClient durable)
    {
        var metadata = await durable.GetInstanceAsync(instanceId, context.RequestAborted);
        if (metadata is not null && DurableStatusPayload.IsRunning(metadata.RuntimeStatus))
        {
            return false;
        }
        context.Response.StatusCode = metadata is null ? StatusCodes.Status404NotFound : StatusCodes.Status410Gone;
        return true;
    }

    private static async Task RaiseEventAsync(HttpContext context, string instanceId, string eventName, DurableTaskClient durable)
    {
        if (!string.Equals(context.Request.ContentType?.Split(';')[0].Trim(), "application/json", StringComparison.OrdinalIgnoreCase))
        {
            await Execute(context, Problems.Create(context.Request, 400, "Invalid request", "Only application/json request content is supported."));
            return;
        }
        if (await RefuseUnlessLiveAsync(context, instanceId, durable))
        {
            return;
        }
        var payload = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        await durable.RaiseEventAsync(instanceId, eventName, payload, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    private static bool Flag(HttpRequest request, string name, bool fallback) =>
        bool.TryParse(request.Query[name].FirstOrDefault(), out var value) ? value : fallback;

    private static DateTimeOffset? Time(HttpRequest request, string name) =>
        DateTimeOffset.TryParse(request.Query[name].FirstOrDefault(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value : null;

    private static Task Execute(HttpContext context, IActionResult result) =>
        result.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));
}
