using System.Text.Json;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Handlers;

/// <summary>
/// The cap on a job's result: its JSON must fit one Table column (until large results go to Blob storage). The
/// orchestration fails a job whose result is larger (<c>ResultTooLarge</c>); a handler whose result grows with its input
/// checks the largest result that input can give in its input validation (<see cref="CharsOf"/>), so a job that could
/// only end that way is refused before any work runs.
/// </summary>
public static class JobResultLimit
{
    /// <summary>Longest result, in characters of its JSON.</summary>
    public const int MaxChars = JobEntity.MaxColumnChars;

    /// <summary>The widest time a result can carry (seven fractional digits), for estimating a result before it exists.</summary>
    public static readonly DateTimeOffset WidestTime = new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_999);

    /// <summary>The length of <paramref name="result"/>'s JSON as it would be stored.</summary>
    public static int CharsOf(object? result) => result is null ? 0 : JsonSerializer.Serialize(result, JobJson.Options).Length;
}
