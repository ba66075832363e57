using Jobs.Functions.Model;

namespace Jobs.Functions.Api;

/// <summary>A job id in a route: refused early, before any storage read, unless it has the format (<see cref="JobIdFormat"/>).</summary>
public static class JobIds
{
    public static bool IsValid(string? id) => JobIdFormat.IsValid(id);

    public static void Require(string? id)
    {
        if (!IsValid(id))
        {
            throw ApiProblemException.BadParameter("id", "is not a job id (32 lowercase hexadecimal characters)");
        }
    }
}
