using System.Text.RegularExpressions;

namespace Jobs.Functions.Model;

/// <summary>Job ids are 32 lowercase hex characters (a GUID without dashes); anything else is refused early.</summary>
public static partial class JobIdFormat
{
    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex Pattern();
}
