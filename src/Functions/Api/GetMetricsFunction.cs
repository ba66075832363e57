using Jobs.Functions.Handlers;
using Jobs.Functions.Metrics;
using Jobs.Functions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Api;

/// <summary>
/// <c>GET /api/metrics</c>: throughput, outcomes, queue wait and durations per job type over time, from the roll-ups
/// (<see cref="JobMetrics"/>), never from the jobs. Scoped as <c>GET /api/jobs/stats</c>; a window costs one range read
/// per partition of the scope and holds at most <see cref="MaxPoints"/> slots.
/// </summary>
public sealed class GetMetricsFunction(ApiGuard guard, JobMetrics metrics, JobHandlerRegistry handlers, IOptions<MetricsOptions> options, TimeProvider time)
{
    /// <summary>Slots one request may span: a day of minutes, or two months of hours (more than the roll-ups keep by default).</summary>
    public const int MaxPoints = 1_440;

    /// <summary>Slots of a window without <c>from</c>: an hour of minutes, or 60 hours.</summary>
    public const int DefaultPoints = 60;

    /// <summary>The parameters, declared once for the parser's messages and the OpenAPI document.</summary>
    public static readonly IReadOnlyDictionary<string, string> Parameters = new Dictionary<string, string>
    {
        ["type"] = $"Job types (known types only); repeat or comma-separate; at most {JobListLimits.MaxFilterValues}. Default: every type.",
        ["from"] = $"Start of the window (ISO-8601; rounded down to the interval). Default: {DefaultPoints} slots before to. No earlier than the roll-ups keep (Jobs:Metrics:KeepDays, 30 days by default); at most {MaxPoints} slots before to.",
        ["to"] = "End of the window (ISO-8601, exclusive; rounded up to the interval). Default: now.",
        ["interval"] = "minute (default) or hour.",
        ["owner"] = "One owner's metrics (admins only).",
    };

    [Function(nameof(GetMetrics))]
    public Task<IActionResult> GetMetrics(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "metrics")] HttpRequest request) =>
        guard.RunAsync(request, [.. Parameters.Keys], async caller =>
        {
            var owner = QueryParameters.Single(request, "owner");
            if (owner is not null && !caller.IsAdmin && owner != caller.Id)
            {
                throw new ApiProblemException(StatusCodes.Status403Forbidden, "Forbidden", "Only admins may see other owners' metrics.");
            }
            var window = ParseWindow(request);
            var types = QueryParameters.List(request, "type");
            if (JobListLimits.CheckFilter("type", types, [.. handlers.TypeNames]) is { } problem)
            {
                throw ApiProblemException.BadParameter(problem.Field, problem.Message);
            }
            JobListScope scope = caller.IsAdmin && owner is null ? new JobListScope.All() : new JobListScope.Owner(owner ?? caller.Id);
            var read = await metrics.ReadAsync(scope, window.Interval, window.From, window.To, types.ToHashSet(StringComparer.Ordinal), request.HttpContext.RequestAborted);
            var series = read.ByType.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t =>
            {
                var total = new TypeMetrics();
                foreach (var point in t.Value.Values)
                {
                    total.Add(point);
                }
                return new MetricSeries(t.Key, MetricTotals.Of(total), [.. t.Value.Select(p => MetricPoint.Of(p.Key, p.Value))]);
            }).ToList();
            return ApiResult.Ok(new MetricsView(
                scope is JobListScope.Owner ? JobStatsView.OwnerScope : JobStatsView.AllScope,
                (scope as JobListScope.Owner)?.Name,
                window.Interval.ToWire(), window.From, window.To, JobStatsView.Periodic, series));
        });

    /// <summary>The window in whole slots; a 400 naming the parameter when it is not one the roll-ups keep or too long.</summary>
    private (MetricInterval Interval, DateTimeOffset From, DateTimeOffset To) ParseWindow(HttpRequest request)
    {
        var rawInterval = QueryParameters.Single(request, "interval");
        var interval = MetricInterval.Minute;
        if (rawInterval is not null && !MetricSlots.TryParseWire(rawInterval, out interval))
        {
            throw ApiProblemException.BadParameter("interval", "must be minute or hour");
        }
        var now = time.GetUtcNow();
        var width = interval.Width();
        var kept = now - TimeSpan.FromDays(options.Value.KeepDays);
        var rawTo = QueryParameters.Time(request, "to") ?? now;
        if (rawTo <= kept || rawTo > now + TimeSpan.FromDays(1))
        {
            throw ApiProblemException.BadParameter("to", $"must be within the {options.Value.KeepDays} days the roll-ups keep, and at most a day ahead");
        }
        var to = MetricSlots.Ceiling(rawTo, interval);
        var from = MetricSlots.Floor(QueryParameters.Time(request, "from") ?? to - width * DefaultPoints, interval);
        if (from >= to)
        {
            throw ApiProblemException.BadParameter("from", "must be before to");
        }
        if (from < MetricSlots.Floor(kept, interval))
        {
            throw ApiProblemException.BadParameter("from", $"is older than the roll-ups keep ({options.Value.KeepDays} days, Jobs:Metrics:KeepDays)");
        }
        var points = (to - from).Ticks / width.Ticks;
        if (points > MaxPoints)
        {
            throw ApiProblemException.BadParameter("from",
                $"the window holds {points} {interval.ToWire()}s, more than the {MaxPoints} one request may; narrow it{(interval == MetricInterval.Minute ? " or use interval=hour" : "")}");
        }
        return (interval, from, to);
    }
}
