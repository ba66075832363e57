using System.Text.Json.Nodes;
using Jobs.Functions.Handlers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary>One job type as <c>GET /api/job-types</c> describes it; <see cref="Events"/> are the events its jobs wait for (the only ones they may be raised).</summary>
public sealed record JobTypeView(
    string Type, string Description, IReadOnlyList<string> Steps, double TimeoutSeconds, JsonNode InputSchema, IReadOnlyDictionary<string, string> StaticMetadata,
    bool Resumable, string? CreatedThrough, IReadOnlyList<JobEventDeclaration> Events);

/// <summary>The body of <c>GET /api/job-types</c>.</summary>
public sealed record JobTypeList(IReadOnlyList<JobTypeView> JobTypes);

/// <summary>
/// <c>GET /api/job-types</c>: every type, its steps (see <see cref="IJobHandler.DescribeSteps"/>), timeout and input
/// schema. Needs no valid input, so a type whose input has required fields is listed like any other.
/// </summary>
public sealed class ListJobTypesFunction(ApiGuard guard, JobHandlerRegistry handlers)
{
    [Function(nameof(ListJobTypes))]
    public Task<IActionResult> ListJobTypes(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "job-types")] HttpRequest request) =>
        guard.RunAsync(request, [], _ =>
        {
            var types = handlers.All.OrderBy(h => h.Type, StringComparer.Ordinal).Select(h => new JobTypeView(
                h.Type, h.Description, h.DescribeSteps(), h.Timeout.TotalSeconds, h.InputSchema, h.StaticMetadata, h.Resumable, h.CreatedThrough, h.Events));
            return Task.FromResult<IActionResult>(ApiResult.Ok(new JobTypeList(types.ToList())));
        });
}
