using Jobs.Functions.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary>
/// <c>GET /api/health</c>: <c>200</c> when storage (tables, queues, blobs), the task hub and the list layout are healthy,
/// else <c>503</c>; the body is a <see cref="HealthReport"/> either way. Anonymous, so Azure's health check, load balancers
/// and uptime probes can call it without a key (docs/decisions.md, issue 29); it says nothing a stranger could use.
/// </summary>
public sealed class GetHealthFunction(HealthProbe probe)
{
    [Function(nameof(GetHealth))]
    public async Task<IActionResult> GetHealth(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request,
        [DurableClient] DurableTaskClient durable)
    {
        var report = await probe.CheckAsync(durable).WaitAsync(request.HttpContext.RequestAborted);
        return new ApiResult(report.IsHealthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, report)
            .WithHeader("Cache-Control", "no-store");
    }
}
