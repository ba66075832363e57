using Jobs.Functions.Handlers;
using Jobs.Functions.Identity;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.AspNetCore.Http;

namespace Jobs.Functions.Api;

/// <summary>
/// Paging facts of a list response. <see cref="Next"/> is an opaque cursor; <see cref="NextLink"/> the URL to follow.
/// <see cref="Total"/> counts the jobs of the scope matching the status and type filters, from the counters kept with
/// the transitions (docs/storage.md): an owner's or an entity's agree with the listing at once, all jobs' as the
/// reconciler last summed them (up to one reconciler period behind); absent when a creation-time window is asked for,
/// which the counters do not know.
/// </summary>
public sealed record Pagination(int Limit, bool HasNext, string? Next, string? NextLink, int Count, int Offset, long? Total = null, long? TotalPages = null);

/// <summary>The body of a listing.</summary>
public sealed record JobListView(IReadOnlyList<JobSummary> Jobs, Pagination Pagination);

/// <summary>Turns list query parameters into a <see cref="JobListQuery"/> the caller is allowed to run, and pages into responses.</summary>
public sealed partial class JobListing(
    JobListIndex index, IndexLayout layout, JobCounters counters, JobHandlerRegistry handlers, PublicUrls urls, Concurrency.JobSlots slots)
{
    /// <summary>Deepest accepted offset: each skipped row is read, so an offset costs as much as that many rows.</summary>
    public const int MaxOffset = 10_000;

    internal static readonly string[] StatusNames = [.. Enum.GetValues<JobStatus>().Select(s => s.ToWire())];

    public static readonly string[] CommonParameters = ["status", "type", "createdFrom", "createdTo", "limit", "next", "offset", "orderBy", "order"];
    public static readonly string[] ListParameters = [.. CommonParameters, "owner", "entityType", "entityId", "correlationId", "scheduleId", "tag", "idPrefix"];

    /// <summary>Most jobs a search by id prefix lists: each costs a point read.</summary>
    public const int MaxIdPrefixJobs = 20;

    public async Task<JobListView> ListAsync(HttpRequest request, Caller caller, EntityRef? entity, CancellationToken cancellationToken)
    {
        var owner = QueryParameters.Single(request, "owner");
        if (owner is not null && !caller.IsAdmin && owner != caller.Id)
        {
            throw new ApiProblemException(StatusCodes.Status403Forbidden, "Forbidden", "Only admins may list other owners' jobs.");
        }
        if (QueryParameters.Single(request, "idPrefix") is { } idPrefix)
        {
            return await FindByIdPrefixAsync(request, caller, owner, idPrefix, cancellationToken);
        }
        var entityType = entity is null ? QueryParameters.Single(request, "entityType") : null;
        var entityId = entity is null ? QueryParameters.Single(request, "entityId") : null;

        var statusValues = QueryParameters.List(request, "status");
        var types = QueryParameters.List(request, "type");
        if ((JobListLimits.CheckFilter("status", statusValues, StatusNames) ?? JobListLimits.CheckFilter("type", types, [.. handlers.TypeNames])) is { } filterProblem)
        {
            throw ApiProblemException.BadParameter(filterProblem.Field, filterProblem.Message);
        }
        // Every value is a status name (checked above).
        var statuses = statusValues.Select(value => JobStatusExtensions.TryParseWire(value, out var status) ? status : throw new InvalidOperationException(value)).ToHashSet();
        var correlationId = QueryParameters.Single(request, "correlationId");
        var from = QueryParameters.Time(request, "createdFrom");
        var to = QueryParameters.Time(request, "createdTo");
        var tags = QueryParameters.List(request, "tag");
        // The same shape rules as a bulk action's filter (JobFilterRules); the first problem is the answer.
        if (JobFilterRules.Check(correlationId, entityType ?? entity?.Type, entityId ?? entity?.Id, from, to, tags).FirstOrDefault() is { } shapeProblem)
        {
            throw ApiProblemException.BadParameter(shapeProblem.Field, shapeProblem.Message);
        }
        entity ??= entityType is null ? null : new EntityRef(entityType, entityId!);
        // A schedule's runs are the jobs of its entity (schedule/{id}): the filter is that listing, at its cost.
        if (QueryParameters.Single(request, "scheduleId") is { } scheduleId)
        {
            if (entity is not null || tags.Count > 0)
            {
                throw ApiProblemException.BadParameter("scheduleId", "cannot be combined with entityType and entityId, or tag");
            }
            entity = new EntityRef(Submissions.SubmissionRules.ScheduleEntityType, ScheduleIds.Require(scheduleId, "scheduleId"));
        }

        // Non-admins only ever read their own index partition, or an entity partition filtered to themselves.
        // A tag's partition is shared by owners as an entity's is (TagScope picks the rarest tag's).
        var ownerFilter = entity is not null || tags.Count > 0 ? (caller.IsAdmin ? owner : caller.Id) : null;
        var tagged = tags.Count > 0 ? await TagScope.SmallestAsync(counters, tags, ownerFilter, cancellationToken) : default;
        JobListScope scope = entity is not null ? new JobListScope.Entity(entity.Type, entity.Id)
            : tags.Count > 0 ? tagged.Scope
            : caller.IsAdmin && owner is null ? new JobListScope.All()
            : new JobListScope.Owner(owner ?? caller.Id);

        var orderBy = QueryParameters.Single(request, "orderBy") switch
        {
            null or "createdAt" => JobOrder.CreatedAt,
            "updatedAt" => JobOrder.UpdatedAt,
            "type" => JobOrder.Type,
            "status" => JobOrder.Status,
            _ => throw ApiProblemException.BadParameter("orderBy", "must be createdAt, updatedAt, type or status"),
        };
        var descending = QueryParameters.Single(request, "order") switch
        {
            null or "desc" => true,
            "asc" => false,
            _ => throw ApiProblemException.BadParameter("order", "must be asc or desc"),
        };
        var offset = QueryParameters.Int(request, "offset", 0, 0, MaxOffset);
        var cursor = QueryParameters.Single(request, "next");
        if (cursor is not null && offset > 0)
        {
            throw ApiProblemException.BadParameter("offset", "cannot be combined with next; follow next instead");
        }

        var query = new JobListQuery
        {
            Scope = scope,
            Statuses = statuses,
            Types = types.ToHashSet(StringComparer.Ordinal),
            Owner = ownerFilter,
            CorrelationId = correlationId,
            Tags = tags,
            CreatedFrom = from,
            CreatedTo = to,
            Limit = QueryParameters.Int(request, "limit", 50, 1, 100),
            OrderBy = orderBy,
            Descending = descending,
            Offset = offset,
            KnownTypes = [.. handlers.TypeNames],
        };
        query = query with { After = cursor };
        if (JobListLimits.CheckCost(query, layout.PartitionsOf(scope).Count) is { } costProblem)
        {
            throw ApiProblemException.BadParameter(costProblem.Field, costProblem.Message);
        }
        // The total is read beside the page (all jobs: one point read; otherwise one short range query per partition of
        // the scope), not after it. Counters know statuses and types, not creation times or correlation ids: such a
        // page has no total. One tag's total is its partition's counts (read already, to choose it); several tags' is a
        // walk of the rarest tag's matching rows when it has at most TagScope.MaxCountedRows jobs in reach, else none.
        var total = tags.Count > 1
                ? tagged.Counts.Total(new HashSet<JobStatus>(), new HashSet<string>(), ownerFilter) <= TagScope.MaxCountedRows
                    ? CountAsync(query, cancellationToken) : Task.FromResult<long?>(null)
            : query.CreatedFrom is not null || query.CreatedTo is not null || query.CorrelationId is not null ? Task.FromResult<long?>(null)
            : tags.Count == 1 ? Task.FromResult<long?>(tagged.Counts.Total(query.Statuses, query.Types, query.Owner))
            : TotalAsync(query, cancellationToken);
        JobPage page;
        try
        {
            page = await index.ListAsync(query, cancellationToken);
        }
        catch (InvalidCursorException)
        {
            throw ApiProblemException.BadParameter("next", "is not a cursor from an earlier page of this listing");
        }
        catch (OffsetBeyondBudgetException spent)
        {
            // Storage scanned past what one request may read before reaching the offset's rows (docs/decisions.md).
            throw ApiProblemException.BadParameter("offset", $"skips more rows than one request may read here ({spent.Skipped} were read); follow next instead");
        }
        finally
        {
            await total; // never left running unobserved (it does not throw storage failures)
        }
        var next = page.Next;
        var count = await total;
        var jobs = await WithQueuePositionsAsync(page.Jobs, cancellationToken);
        return new JobListView(jobs, new Pagination(query.Limit, next is not null, next, next is null ? null : NextLink(request, next), page.Jobs.Count, offset,
            count, count is { } n ? (n + query.Limit - 1) / query.Limit : null));
    }

    private async Task<long?> TotalAsync(JobListQuery query, CancellationToken cancellationToken)
    {
        try
        {
            var counts = await counters.ReadAsync(query.Scope, cancellationToken);
            return counts.Total(query.Statuses, query.Types, query.Owner);
        }
        catch (Azure.RequestFailedException)
        {
            return null; // the page is still worth serving; a page without a total says it has none
        }
    }

    /// <summary>
    /// <c>?idPrefix=</c>: the caller's jobs (an admin's: everyone's, or <c>owner</c>'s) whose id starts with 1–31 hex digits,
    /// newest first, at most <see cref="MaxIdPrefixJobs"/> (<c>limit</c> may ask for fewer); one page, no total. Alone:
    /// with any other filter it is a 400 naming it.
    /// </summary>
    private async Task<JobListView> FindByIdPrefixAsync(HttpRequest request, Caller caller, string? owner, string idPrefix, CancellationToken cancellationToken)
    {
        var prefix = idPrefix.ToLowerInvariant();
        if (!IdPrefixShape().IsMatch(prefix))
        {
            throw ApiProblemException.BadParameter("idPrefix", "must be 1-31 hex digits of a job id (a whole id: GET /api/jobs/{id})");
        }
        if (request.Query.Keys.FirstOrDefault(k => k is not ("idPrefix" or "owner" or "limit" or "code")) is { } other)
        {
            throw ApiProblemException.BadParameter(other, "cannot be combined with idPrefix");
        }
        var limit = QueryParameters.Int(request, "limit", MaxIdPrefixJobs, 1, MaxIdPrefixJobs);
        JobListScope scope = caller.IsAdmin && owner is null ? new JobListScope.All() : new JobListScope.Owner(owner ?? caller.Id);
        var jobs = await WithQueuePositionsAsync(await index.FindByIdPrefixAsync(scope, prefix, limit, cancellationToken), cancellationToken);
        return new JobListView(jobs, new Pagination(limit, false, null, null, jobs.Count, 0));
    }

    /// <summary>
    /// The page's queued rows with their places in line: one range read of the head of each type's queue among them, at
    /// once (<see cref="Concurrency.JobSlots.PositionsAsync"/>); none when no row is queued. A row further back than that
    /// read reaches is listed without a position.
    /// </summary>
    private async Task<IReadOnlyList<JobSummary>> WithQueuePositionsAsync(IReadOnlyList<JobSummary> jobs, CancellationToken cancellationToken)
    {
        var queued = jobs.Where(j => j.Status == JobStatus.Queued).GroupBy(j => j.Type, StringComparer.Ordinal).ToList();
        if (queued.Count == 0)
        {
            return jobs;
        }
        var byType = await Task.WhenAll(queued.Select(group => slots.PositionsAsync(group.Key, [.. group.Select(j => j.Id)], cancellationToken)));
        var positions = byType.SelectMany(p => p).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return [.. jobs.Select(j => j.Status == JobStatus.Queued && positions.TryGetValue(j.Id, out var place) ? j with { QueuePosition = place } : j)];
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9a-f]{1,31}$")]
    private static partial System.Text.RegularExpressions.Regex IdPrefixShape();

    private async Task<long?> CountAsync(JobListQuery query, CancellationToken cancellationToken)
    {
        try
        {
            return await index.CountAsync(query, TagScope.MaxCountedRows, cancellationToken);
        }
        catch (Azure.RequestFailedException)
        {
            return null; // as TotalAsync: the page is still worth serving
        }
    }

    private string NextLink(HttpRequest request, string next)
    {
        var query = request.Query.Where(p => p.Key != "next")
            .SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}"))
            .Append("next=" + Uri.EscapeDataString(next));
        return $"{urls.BaseUrl(request)}{request.Path}?{string.Join("&", query)}";
    }
}
