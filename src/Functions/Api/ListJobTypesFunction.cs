using System.Text.Json.Nodes;
using Jobs.Functions.Concurrency;
using Jobs.Functions.Handlers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary>
/// One job type as <c>GET /api/job-types</c> describes it; <see cref="Events"/> are the events its jobs wait for (the
/// only ones they may be raised). <see cref="MaxRunning"/> and <see cref="MaxPerKey"/> are its concurrency limits (null:
/// none), <see cref="DefaultPriority"/> the priority of a job created without one, and <see cref="Paused"/> whether an
/// admin paused it (its jobs wait <c>queued</c>).
/// </summary>
public sealed record JobTypeView(
    string Type, string Description, IReadOnlyList<string> Steps, double TimeoutSeconds, JsonNode InputSchema, IReadOnlyDictionary<string, string> StaticMetadata,
    bool Resumable, string? CreatedThrough, IReadOnlyList<JobEventDeclaration> Events, int? MaxRunning, int? MaxPerKey, int DefaultPriority, bool Paused);

/// <summary>The body of <c>GET /api/job-types</c>.</summary>
public sealed record JobTypeList(IReadOnlyList<JobTypeView> JobTypes);

/// <summary>
/// <c>GET /api/job-types</c>: every type, its steps (see <see cref="IJobHandler.DescribeSteps"/>), timeout and input
/// schema, its concurrency limits and whether it is paused (one point read of its slot row per type). Needs no valid
/// input, so a type whose input has required fields is listed like any other.
/// </summary>
public sealed class ListJobTypesFunction(ApiGuard guard, JobHandlerRegistry handlers, JobSlots slots)
{
    [Function(nameof(ListJobTypes))]
    public Task<IActionResult> ListJobTypes(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "job-types")] HttpRequest request) =>
        guard.RunAsync(request, [], async _ =>
        {
            var types = new List<JobTypeView>();
            foreach (var h in handlers.All.OrderBy(h => h.Type, StringComparer.Ordinal))
            {
                var state = await slots.ReadAsync(h.Type, request.HttpContext.RequestAborted);
                types.Add(new JobTypeView(h.Type, h.Description, h.DescribeSteps(), h.Timeout.TotalSeconds, h.InputSchema, h.StaticMetadata, h.Resumable,
                    h.CreatedThrough, h.Events, h.Concurrency.MaxRunning, h.Concurrency.MaxPerKey, h.DefaultPriority, state.Paused));
            }
            return ApiResult.Ok(new JobTypeList(types));
        });
}
