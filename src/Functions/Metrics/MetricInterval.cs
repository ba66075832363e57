using System.Globalization;

namespace Jobs.Functions.Metrics;

/// <summary>The width of one metrics point: the roll-ups keep one row per minute and one per hour.</summary>
public enum MetricInterval
{
    Minute,
    Hour,
}

/// <summary>Slots of a <see cref="MetricInterval"/>: where a moment falls, and the RowKey of the roll-up row that holds it.</summary>
public static class MetricSlots
{
    /// <summary>Roll-up rows of a list partition: <c>met-m-{yyyyMMddHHmm}</c> (minutes) and <c>met-h-{yyyyMMddHH}</c> (hours), UTC.</summary>
    public const string RowKeyPrefix = "met-";

    public static TimeSpan Width(this MetricInterval interval) => interval == MetricInterval.Minute ? TimeSpan.FromMinutes(1) : TimeSpan.FromHours(1);

    public static string ToWire(this MetricInterval interval) => interval == MetricInterval.Minute ? "minute" : "hour";

    public static bool TryParseWire(string? value, out MetricInterval interval)
    {
        interval = value == "hour" ? MetricInterval.Hour : MetricInterval.Minute;
        return value is "minute" or "hour";
    }

    /// <summary>The start of the slot holding <paramref name="at"/> (UTC).</summary>
    public static DateTimeOffset Floor(DateTimeOffset at, MetricInterval interval)
    {
        var ticks = at.UtcTicks;
        return new DateTimeOffset(ticks - ticks % interval.Width().Ticks, TimeSpan.Zero);
    }

    /// <summary>The first slot that starts at or after <paramref name="at"/>.</summary>
    public static DateTimeOffset Ceiling(DateTimeOffset at, MetricInterval interval)
    {
        var floor = Floor(at, interval);
        return floor == at ? floor : floor + interval.Width();
    }

    /// <summary>The family of an interval's rows: <c>met-m-</c> or <c>met-h-</c>.</summary>
    public static string FamilyPrefix(MetricInterval interval) => RowKeyPrefix + (interval == MetricInterval.Minute ? "m-" : "h-");

    /// <summary>The RowKey of the slot holding <paramref name="at"/>; keys sort as time does.</summary>
    public static string RowKey(MetricInterval interval, DateTimeOffset at) =>
        FamilyPrefix(interval) + Floor(at, interval).UtcDateTime.ToString(interval == MetricInterval.Minute ? "yyyyMMddHHmm" : "yyyyMMddHH", CultureInfo.InvariantCulture);

    /// <summary>The slot a roll-up RowKey stands for, and its interval; false for any other key.</summary>
    public static bool TryParseRowKey(string rowKey, out MetricInterval interval, out DateTimeOffset slot)
    {
        slot = default;
        interval = rowKey.StartsWith(FamilyPrefix(MetricInterval.Hour), StringComparison.Ordinal) ? MetricInterval.Hour : MetricInterval.Minute;
        if (!rowKey.StartsWith(FamilyPrefix(interval), StringComparison.Ordinal))
        {
            return false;
        }
        var format = interval == MetricInterval.Minute ? "yyyyMMddHHmm" : "yyyyMMddHH";
        if (!DateTime.TryParseExact(rowKey.AsSpan(FamilyPrefix(interval).Length), format, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return false;
        }
        slot = new DateTimeOffset(parsed, TimeSpan.Zero);
        return true;
    }
}
