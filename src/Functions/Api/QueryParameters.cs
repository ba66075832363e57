using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Jobs.Functions.Api;

/// <summary>Typed, validated reads of query parameters; each failure names the parameter.</summary>
public static class QueryParameters
{
    public static string? Single(HttpRequest request, string name)
    {
        var values = request.Query[name];
        if (values.Count > 1)
        {
            throw ApiProblemException.BadParameter(name, "may be given once");
        }
        return values.Count == 0 ? null : values[0];
    }

    public static int Int(HttpRequest request, string name, int fallback, int min, int max)
    {
        var raw = Single(request, name);
        if (raw is null)
        {
            return fallback;
        }
        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw ApiProblemException.BadParameter(name, $"must be a whole number from {min} to {max}");
        }
        return value;
    }

    public static DateTimeOffset? Time(HttpRequest request, string name)
    {
        var raw = Single(request, name);
        if (raw is null)
        {
            return null;
        }
        return DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : throw ApiProblemException.BadParameter(name, "must be an ISO-8601 date-time, e.g. 2026-01-31T12:00:00Z");
    }

    /// <summary>Values of a parameter that may repeat and may hold comma-separated lists.</summary>
    public static IReadOnlyList<string> List(HttpRequest request, string name) =>
        [.. request.Query[name].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))];
}
