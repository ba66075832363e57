using System.Text.RegularExpressions;

namespace Jobs.Functions.Artifacts;

/// <summary>
/// What an artifact may be called: 1–128 characters of letters, digits, <c>.</c>, <c>_</c> and <c>-</c>, starting with a
/// letter or digit, with no <c>..</c> — so a name is one path segment of a URL and of a blob name, never a path.
/// </summary>
public static partial class ArtifactNames
{
    public const int MaxLength = 128;

    /// <summary>The name an oversized result is written under.</summary>
    public const string Result = "result.json";

    /// <summary>Null when <paramref name="name"/> is a valid artifact name, otherwise why it is not.</summary>
    public static string? Problem(string? name) =>
        string.IsNullOrEmpty(name) ? "is required"
        : name.Length > MaxLength ? $"must be at most {MaxLength} characters"
        : !Pattern().IsMatch(name) || name.Contains("..", StringComparison.Ordinal)
            ? "must be letters, digits, '.', '_' or '-', starting with a letter or digit, without '..' (no path characters)"
        : null;

    /// <summary>Throws <see cref="ArgumentException"/> (a handler's bug) when <paramref name="name"/> is not valid.</summary>
    public static void Check(string name)
    {
        if (Problem(name) is { } problem)
        {
            throw new ArgumentException($"Artifact name '{name}' {problem}.", nameof(name));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
