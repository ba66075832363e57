using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Functions.Api;

/// <summary>
/// The instance-status body and status codes of Durable Functions' HTTP API (<c>GET /instances/{id}</c>):
/// 202 + Location + Retry-After while the instance runs, 200 when it has ended (500 for a failure only when
/// asked). Shared by the per-job endpoints and the local runner's native API so both answer alike.
/// </summary>
public static class DurableStatusPayload
{
    public static JsonObject Build(OrchestrationMetadata metadata, bool showInput, JsonArray? history)
    {
        var body = new JsonObject
        {
            ["name"] = metadata.Name,
            ["instanceId"] = metadata.InstanceId,
            ["runtimeStatus"] = metadata.RuntimeStatus.ToString(),
            ["input"] = showInput ? ParseOrNull(metadata.SerializedInput) : null,
            ["customStatus"] = ParseOrNull(metadata.SerializedCustomStatus),
            ["output"] = metadata.RuntimeStatus == OrchestrationRuntimeStatus.Failed && metadata.FailureDetails is { } failure
                ? JsonValue.Create(failure.ErrorMessage)
                : ParseOrNull(metadata.SerializedOutput),
            ["createdTime"] = metadata.CreatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            ["lastUpdatedTime"] = metadata.LastUpdatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (history is not null)
        {
            body["historyEvents"] = history;
        }
        return body;
    }

    public static bool IsRunning(OrchestrationRuntimeStatus status) => status is OrchestrationRuntimeStatus.Pending
        or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended
#pragma warning disable CS0618 // ContinuedAsNew is obsolete in the SDK but still a status the HTTP API reports as running.
        or OrchestrationRuntimeStatus.ContinuedAsNew;
#pragma warning restore CS0618

    /// <summary>
    /// The response for an instance, with the status code and headers the HTTP API uses; the <c>Location</c> of a
    /// running instance is this request's URL under <paramref name="baseUrl"/> (<see cref="PublicUrls.BaseUrl"/>).
    /// </summary>
    public static ApiResult Respond(HttpRequest request, string baseUrl, OrchestrationMetadata metadata, bool showInput, JsonArray? history, bool returnInternalServerErrorOnFailure)
    {
        var body = Build(metadata, showInput, history);
        if (IsRunning(metadata.RuntimeStatus))
        {
            return new ApiResult(StatusCodes.Status202Accepted, body)
                .WithHeader("Location", $"{baseUrl}{request.Path}{request.QueryString}")
                .WithHeader("Retry-After", "5");
        }
        var failed = metadata.RuntimeStatus == OrchestrationRuntimeStatus.Failed && returnInternalServerErrorOnFailure;
        return new ApiResult(failed ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK, body);
    }

    /// <summary>
    /// The same, for the local runner's native durable API, which hands over only the request: the base URL comes
    /// from the <see cref="PublicUrls"/> of the request's services (the app's container in the runner).
    /// </summary>
    public static ApiResult Respond(HttpRequest request, OrchestrationMetadata metadata, bool showInput, JsonArray? history, bool returnInternalServerErrorOnFailure) =>
        Respond(request, request.HttpContext.RequestServices.GetRequiredService<PublicUrls>().BaseUrl(request),
            metadata, showInput, history, returnInternalServerErrorOnFailure);

    /// <summary>History events as JSON objects (each serialised as its concrete event type).</summary>
    public static JsonArray History(IEnumerable<object> events) =>
        [.. events.Select(e => JsonSerializer.SerializeToNode(e, e.GetType()))];

    /// <summary>Reads a boolean query flag the way the HTTP API does; anything but true/false is a 400.</summary>
    public static bool Flag(HttpRequest request, string name, bool fallback)
    {
        var raw = QueryParameters.Single(request, name);
        return raw is null ? fallback
            : bool.TryParse(raw, out var value) ? value
            : throw ApiProblemException.BadParameter(name, "must be true or false");
    }

    private static JsonNode? ParseOrNull(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return JsonValue.Create(json);
        }
    }
}
