using Jobs.Functions.Metrics;

namespace Jobs.UnitTests.Metrics;

public sealed class DurationHistogramTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(10, 0)]
    [InlineData(11, 1)]
    [InlineData(1_000, 6)]
    [InlineData(1_001, 7)]
    [InlineData(86_400_000, 21)]
    [InlineData(86_400_001, 22)]
    public void BucketOf_IsTheFirstBucketWhoseUpperBoundHoldsTheDuration(long ms, int bucket) =>
        Assert.Equal(bucket, DurationHistogram.BucketOf(ms));

    [Fact]
    public void Percentile_InterpolatesInsideTheBucketHoldingTheRank()
    {
        var histogram = new DurationHistogram();
        // 10 durations in (1 s, 2 s]: rank 5 of 10 is halfway through the bucket, rank 10 at its top (capped at the max seen).
        foreach (var ms in new long[] { 1_100, 1_200, 1_300, 1_400, 1_500, 1_600, 1_700, 1_800, 1_900, 2_000 })
        {
            histogram.Add(ms);
        }
        Assert.Equal(1_500, histogram.Percentile(0.5));
        Assert.Equal(2_000, histogram.Percentile(0.95));
        Assert.Equal(1_550, histogram.MeanMs);
    }

    [Fact]
    public void Percentile_OfSkewedDurations_FindsTheBucketByCumulativeCount()
    {
        var histogram = new DurationHistogram();
        for (var i = 0; i < 90; i++)
        {
            histogram.Add(15); // (10, 20]
        }
        for (var i = 0; i < 10; i++)
        {
            histogram.Add(40_000); // (20 s, 50 s]
        }
        // p50: rank 50 of the 90 in (10, 20] → 10 + 10 × 50/90.
        Assert.Equal(10 + 10.0 * 50 / 90, histogram.Percentile(0.5)!.Value, 6);
        // p95: rank 95 is the 5th of 10 in (20 s, 50 s] → 20 s + 30 s × 5/10 = 35 s.
        Assert.Equal(35_000, histogram.Percentile(0.95));
    }

    [Fact]
    public void Percentile_AboveTheLastBound_IsTheLargestSeen_AndNoneIsNull()
    {
        var histogram = new DurationHistogram();
        Assert.Null(histogram.Percentile(0.5));
        histogram.Add(100_000_000);
        Assert.Equal(100_000_000, histogram.Percentile(0.95));
    }

    [Fact]
    public void Add_OfTwoHistograms_EqualsOneHistogramOfEveryDuration()
    {
        var (a, b, both) = (new DurationHistogram(), new DurationHistogram(), new DurationHistogram());
        foreach (var ms in new long[] { 5, 70, 900, 3_000 })
        {
            a.Add(ms);
            both.Add(ms);
        }
        foreach (var ms in new long[] { 12, 4_000, 60_000 })
        {
            b.Add(ms);
            both.Add(ms);
        }
        a.Add(b);
        Assert.Equal(both.Buckets, a.Buckets);
        Assert.Equal((both.SumMs, both.MaxMs, both.Count), (a.SumMs, a.MaxMs, a.Count));
        Assert.Equal(both.Percentile(0.95), a.Percentile(0.95));
    }
}
