using Jobs.Functions.Identity;
using Jobs.Functions.Schedules;
using Jobs.Functions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary>
/// Recurring schedules: <c>POST /api/schedules</c> (201), <c>GET /api/schedules</c> (the caller's; an admin's: everyone's,
/// or one owner's), <c>GET/PATCH/DELETE /api/schedules/{id}</c>. Owners see and manage their own schedules, admins all;
/// another owner's schedule is a 404, as a job is.
/// </summary>
public sealed class ScheduleFunctions(ApiGuard guard, ScheduleService schedules, ScheduleStore store, PublicUrls urls)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 100;

    [Function(nameof(CreateSchedule))]
    public Task<IActionResult> CreateSchedule(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "schedules")] HttpRequest request) =>
        guard.RunAsync(request, [], async caller =>
        {
            var cancellation = request.HttpContext.RequestAborted;
            var body = await RequestBody.ReadAsync<ScheduleRequest>(request, cancellation);
            var schedule = await schedules.CreateAsync(body, caller.Id, cancellation);
            var baseUrl = urls.BaseUrl(request);
            return new ApiResult(StatusCodes.Status201Created, ScheduleRepresentation.Of(schedule, baseUrl, schedules.Now))
                .WithHeader("Location", $"{baseUrl}/api/schedules/{schedule.Id}");
        });

    [Function(nameof(ListSchedules))]
    public Task<IActionResult> ListSchedules(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "schedules")] HttpRequest request) =>
        guard.RunAsync(request, ["owner", "limit", "next"], async caller =>
        {
            var owner = QueryParameters.Single(request, "owner");
            if (owner is not null && !caller.IsAdmin && owner != caller.Id)
            {
                throw new ApiProblemException(StatusCodes.Status403Forbidden, "Forbidden", "Only admins may list other owners' schedules.");
            }
            owner ??= caller.IsAdmin ? null : caller.Id;
            var limit = QueryParameters.Int(request, "limit", DefaultPageSize, 1, MaxPageSize);
            var after = DecodeCursor(QueryParameters.Single(request, "next"), owner);
            var (page, last) = await store.ListAsync(owner, after, limit, request.HttpContext.RequestAborted);
            var baseUrl = urls.BaseUrl(request);
            var now = schedules.Now;
            var next = last is null ? null : System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(last));
            var nextLink = next is null ? null
                : $"{baseUrl}/api/schedules?limit={limit}&next={Uri.EscapeDataString(next)}" + (owner is not null && caller.IsAdmin ? $"&owner={Uri.EscapeDataString(owner)}" : "");
            return ApiResult.Ok(new ScheduleListView([.. page.Select(s => ScheduleRepresentation.Of(s, baseUrl, now))], next, nextLink));
        });

    [Function(nameof(GetSchedule))]
    public Task<IActionResult> GetSchedule(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "schedules/{id}")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var cancellation = request.HttpContext.RequestAborted;
            var schedule = (await VisibleAsync(id, caller, cancellation)).Schedule;
            var runs = await schedules.RecentRunsAsync(schedule, cancellation);
            return ApiResult.Ok(ScheduleRepresentation.Of(schedule, urls.BaseUrl(request), schedules.Now, runs));
        });

    [Function(nameof(UpdateSchedule))]
    public Task<IActionResult> UpdateSchedule(
        [HttpTrigger(AuthorizationLevel.Function, "patch", Route = "schedules/{id}")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var cancellation = request.HttpContext.RequestAborted;
            var patch = await RequestBody.ReadAsync<SchedulePatch>(request, cancellation);
            var stored = await VisibleAsync(id, caller, cancellation);
            var updated = await schedules.UpdateAsync(stored, patch, cancellation);
            return ApiResult.Ok(ScheduleRepresentation.Of(updated, urls.BaseUrl(request), schedules.Now));
        });

    [Function(nameof(DeleteSchedule))]
    public Task<IActionResult> DeleteSchedule(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "schedules/{id}")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var cancellation = request.HttpContext.RequestAborted;
            await schedules.DeleteAsync(await VisibleAsync(id, caller, cancellation), cancellation);
            return new ApiResult(StatusCodes.Status204NoContent, null);
        });

    /// <summary>The schedule, if it exists and the caller may see it; otherwise a 404 that does not reveal which.</summary>
    private async Task<StoredSchedule> VisibleAsync(string id, Caller caller, CancellationToken cancellationToken)
    {
        ScheduleIds.Require(id);
        var stored = await store.GetAsync(id, cancellationToken);
        return stored is not null && caller.CanAccess(stored.Schedule.Owner) ? stored : throw ApiProblemException.NotFound($"Schedule {id}");
    }

    /// <summary>The RowKey a <c>next</c> token stands for; it must lie in the listed range (one owner's, or all).</summary>
    private static string? DecodeCursor(string? token, string? owner)
    {
        if (token is null)
        {
            return null;
        }
        try
        {
            var rowKey = System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token));
            var prefix = owner is null ? TableKeys.ScheduleRowKeyPrefix : TableKeys.ScheduleOwnerPrefix(owner);
            if (rowKey.StartsWith(prefix, StringComparison.Ordinal) && rowKey.Length <= 512 && !rowKey.Any(char.IsControl))
            {
                return rowKey;
            }
        }
        catch (FormatException)
        {
        }
        throw ApiProblemException.BadParameter("next", "is not a cursor from an earlier page of this listing");
    }
}
