using Jobs.Functions.Metrics;

namespace Jobs.UnitTests.Metrics;

public sealed class MetricSlotsTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 9, 41, 37, 250, TimeSpan.Zero);

    [Fact]
    public void RowKey_NamesTheUtcMinuteOrHour()
    {
        Assert.Equal("met-m-202612070941", MetricSlots.RowKey(MetricInterval.Minute, At));
        Assert.Equal("met-h-2026120709", MetricSlots.RowKey(MetricInterval.Hour, At));
        // Another offset, the same moment: the same row.
        Assert.Equal("met-m-202612070941", MetricSlots.RowKey(MetricInterval.Minute, At.ToOffset(TimeSpan.FromHours(5.5))));
    }

    [Fact]
    public void RowKeys_SortAsTheirSlotsDo_AndParseBack()
    {
        var minutes = Enumerable.Range(0, 200).Select(i => At.AddMinutes(i * 37)).ToList();
        var keys = minutes.Select(m => MetricSlots.RowKey(MetricInterval.Minute, m)).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.True(MetricSlots.TryParseRowKey(keys[3], out var interval, out var slot));
        Assert.Equal((MetricInterval.Minute, MetricSlots.Floor(minutes[3], MetricInterval.Minute)), (interval, slot));
        Assert.True(MetricSlots.TryParseRowKey("met-h-2026120709", out interval, out slot));
        Assert.Equal((MetricInterval.Hour, new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero)), (interval, slot));
        Assert.False(MetricSlots.TryParseRowKey("cnt-c", out _, out _));
    }

    [Fact]
    public void FloorAndCeiling_RoundToTheSlot()
    {
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 9, 41, 0, TimeSpan.Zero), MetricSlots.Floor(At, MetricInterval.Minute));
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero), MetricSlots.Ceiling(At, MetricInterval.Hour));
        var whole = new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
        Assert.Equal(whole, MetricSlots.Ceiling(whole, MetricInterval.Hour));
    }
}
