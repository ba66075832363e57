using System.Text.RegularExpressions;
using Jobs.Functions.Handlers;

namespace Jobs.Functions.Model;

/// <summary>
/// The rules of a job's tags (issue 28): at most <see cref="MaxCount"/> per job, each <c>name</c> or <c>name:value</c>
/// of at most <see cref="MaxLength"/> characters. A name is letters, digits and <c>_ . - /</c>; a value is those and
/// <c>: @ + =</c>. Tags match exactly (case-sensitive). The same rules check a create's <c>tags</c>, the list's
/// <c>tag</c> filter and a bulk filter's, so all three accept and refuse the same values.
/// </summary>
public static partial class JobTags
{
    public const int MaxCount = 10;
    public const int MaxLength = 64;

    /// <summary>Every problem of <paramref name="tags"/>, each naming its element (<c>tags[3]</c>), in order.</summary>
    public static IEnumerable<InputError> Check(IReadOnlyList<string?>? tags, string field)
    {
        if (tags is null)
        {
            yield break;
        }
        if (tags.Count > MaxCount)
        {
            yield return new InputError(field, $"must hold at most {MaxCount} tags");
            yield break;
        }
        for (var i = 0; i < tags.Count; i++)
        {
            var element = $"{field}[{i}]";
            var tag = tags[i];
            if (string.IsNullOrEmpty(tag) || tag.Length > MaxLength)
            {
                yield return new InputError(element, $"must be 1-{MaxLength} characters");
            }
            else if (!Shape().IsMatch(tag))
            {
                yield return new InputError(element, "must be name or name:value; a name is letters, digits and _ . - /, a value also : @ + =");
            }
            else if (tags.Take(i).Contains(tag, StringComparer.Ordinal))
            {
                yield return new InputError(element, "repeats an earlier tag");
            }
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_./\-]+(:[A-Za-z0-9_./\-:@+=]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
