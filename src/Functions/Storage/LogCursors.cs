using System.Globalization;
using System.Text.RegularExpressions;

namespace Jobs.Functions.Storage;

/// <summary>
/// Log cursors (the part of a log line's RowKey after <c>log-</c>): ticks as 19 digits, '-', a sequence as 6 digits.
/// Their shape is storage's; callers outside it only check a cursor a client sent and ask for one a while earlier.
/// </summary>
public static partial class LogCursors
{
    /// <summary>A cursor at <paramref name="at"/> with <paramref name="sequence"/> (ordering lines of the same tick).</summary>
    internal static string At(DateTimeOffset at, long sequence) =>
        at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + sequence.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="text"/> has a cursor's shape (a client's <c>after</c>, a <c>Last-Event-ID</c>'s part).</summary>
    public static bool IsValid(string text) => Shape().IsMatch(text);

    /// <summary>The cursor <paramref name="span"/> before <paramref name="cursor"/>: reading after it reads that stretch again.</summary>
    public static string Before(string cursor, TimeSpan span)
    {
        var ticks = long.Parse(cursor.AsSpan(0, 19), NumberStyles.None, CultureInfo.InvariantCulture) - span.Ticks;
        return Math.Max(0, ticks).ToString("D19", CultureInfo.InvariantCulture) + "-000000";
    }

    [GeneratedRegex("^[0-9]{19}-[0-9]{6}$")]
    private static partial Regex Shape();
}
