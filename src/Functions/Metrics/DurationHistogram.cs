namespace Jobs.Functions.Metrics;

/// <summary>
/// Durations in fixed buckets (milliseconds, a 1-2-5 series from 10 ms to a day, and one bucket above), so roll-ups of
/// any number of jobs stay a few numbers each and add up across minutes, hours, buckets and types. Percentiles are read
/// by linear interpolation inside the bucket that holds the rank, never above the largest duration seen.
/// </summary>
public sealed class DurationHistogram
{
    /// <summary>Upper bounds (inclusive) of every bucket but the last, which holds everything longer than a day.</summary>
    public static IReadOnlyList<long> Bounds { get; } =
    [
        10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000,
        1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000, 86_400_000,
    ];

    public DurationHistogram() => Buckets = new long[Bounds.Count + 1];

    public DurationHistogram(long[] buckets, long sumMs, long maxMs)
    {
        Buckets = new long[Bounds.Count + 1];
        Array.Copy(buckets, Buckets, Math.Min(buckets.Length, Buckets.Length));
        SumMs = sumMs;
        MaxMs = maxMs;
    }

    /// <summary>How many durations each bucket holds (<see cref="Bounds"/>, then the overflow bucket).</summary>
    public long[] Buckets { get; }

    public long SumMs { get; private set; }

    public long MaxMs { get; private set; }

    public long Count => Buckets.Sum();

    /// <summary>The bucket a duration falls in: the first whose bound is at least it.</summary>
    public static int BucketOf(long ms)
    {
        for (var i = 0; i < Bounds.Count; i++)
        {
            if (ms <= Bounds[i])
            {
                return i;
            }
        }
        return Bounds.Count;
    }

    public void Add(long ms)
    {
        ms = Math.Max(0, ms);
        Buckets[BucketOf(ms)]++;
        SumMs += ms;
        MaxMs = Math.Max(MaxMs, ms);
    }

    public void Add(DurationHistogram other)
    {
        for (var i = 0; i < Buckets.Length; i++)
        {
            Buckets[i] += other.Buckets[i];
        }
        SumMs += other.SumMs;
        MaxMs = Math.Max(MaxMs, other.MaxMs);
    }

    public double? MeanMs => Count == 0 ? null : (double)SumMs / Count;

    /// <summary>
    /// The duration below which a fraction <paramref name="p"/> (0–1] of them fall: the bucket holding rank ⌈p·n⌉,
    /// interpolated linearly between its lower and upper bound by the rank's place in it, capped at the largest seen.
    /// Null when there are none.
    /// </summary>
    public double? Percentile(double p)
    {
        var count = Count;
        if (count == 0)
        {
            return null;
        }
        var rank = Math.Max(1, (long)Math.Ceiling(p * count));
        long before = 0;
        for (var i = 0; i < Buckets.Length; i++)
        {
            if (before + Buckets[i] >= rank)
            {
                double lower = i == 0 ? 0 : Bounds[i - 1];
                double upper = i < Bounds.Count ? Bounds[i] : Math.Max(MaxMs, lower);
                var value = lower + (upper - lower) * (rank - before) / Buckets[i];
                return Math.Min(value, MaxMs);
            }
            before += Buckets[i];
        }
        return MaxMs;
    }
}
