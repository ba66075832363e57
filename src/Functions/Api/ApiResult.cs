using System.Text.Json;
using Jobs.Functions.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Jobs.Functions.Api;

/// <summary>
/// A JSON response written with the service's own <see cref="JobJson"/> options. It writes the response itself,
/// so it needs no MVC formatters and behaves the same under the Functions host and the local runner.
/// </summary>
public sealed class ApiResult(int status, object? body, string contentType = "application/json; charset=utf-8") : IActionResult
{
    private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);

    public int Status { get; } = status;
    public object? Body { get; } = body;

    public ApiResult WithHeader(string name, string value)
    {
        _headers[name] = value;
        return this;
    }

    public static ApiResult Ok(object? body) => new(StatusCodes.Status200OK, body);

    /// <summary>
    /// The answer to a request that creates a job (create, rerun, bulk): <paramref name="status"/> (202 by default) with
    /// the job, <c>Location</c> its status URL, and <c>Idempotent-Replayed: true</c> when an idempotency key returned the
    /// job an earlier request created instead.
    /// </summary>
    public static ApiResult JobAccepted(System.Text.Json.Nodes.JsonObject job, string jobId, string baseUrl, bool created, int status = StatusCodes.Status202Accepted)
    {
        var result = new ApiResult(status, job).WithHeader("Location", $"{baseUrl}/api/jobs/{jobId}/status");
        return created ? result : result.WithHeader("Idempotent-Replayed", "true");
    }

    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = Status;
        foreach (var (name, value) in _headers)
        {
            response.Headers[name] = value;
        }
        if (Body is null)
        {
            return;
        }
        response.ContentType = contentType;
        await JsonSerializer.SerializeAsync(response.Body, Body, Body.GetType(), JobJson.Options, context.HttpContext.RequestAborted);
    }
}
