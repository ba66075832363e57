using System.Text.RegularExpressions;

namespace Jobs.Functions.Api;

/// <summary>Job ids are 32 lowercase hex characters (a GUID without dashes); anything else is refused early.</summary>
public static partial class JobIds
{
    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    public static void Require(string? id)
    {
        if (!IsValid(id))
        {
            throw ApiProblemException.BadParameter("id", "is not a job id (32 lowercase hexadecimal characters)");
        }
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex Pattern();
}
