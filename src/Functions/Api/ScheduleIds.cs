using Jobs.Functions.Model;

namespace Jobs.Functions.Api;

/// <summary>A schedule id (32 lowercase hex, as job ids) in a route or query: refused before any storage read unless it has the format.</summary>
public static class ScheduleIds
{
    public static string Require(string? id, string field = "id") =>
        JobIdFormat.IsValid(id) ? id! : throw ApiProblemException.BadParameter(field, "is not a schedule id (32 lowercase hexadecimal characters)");
}
