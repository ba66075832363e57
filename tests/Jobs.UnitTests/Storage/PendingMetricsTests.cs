using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Jobs.Functions.Metrics;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Storage;

/// <summary>
/// A fold's pending roll-ups on the counter row: what is written reads back the same, however many columns it takes, and
/// the bound a fold chunk is cut by is never below what its increments can take when written.
/// </summary>
public sealed class PendingMetricsTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 9, 41, 30, TimeSpan.Zero);

    [Fact]
    public void Pending_WrittenOnACounterRow_ReadsBackTheSameIncrements_PerRowAndType()
    {
        var pending = new PendingMetrics();
        pending.Add("demo.steps", new MetricFact(MetricKind.Created, At, null));
        pending.Add("demo.steps", new MetricFact(MetricKind.Started, At.AddSeconds(1), 250));
        pending.Add("demo.steps", new MetricFact(MetricKind.Failed, At.AddMinutes(2), 90_000));
        pending.Add("demo.fanout", new MetricFact(MetricKind.Completed, At, 12));
        var row = new TableEntity("idx-owner-a", TableKeys.CounterRowKey) { ["Counts"] = "[]" };

        pending.WriteTo(row);
        var read = PendingMetrics.ReadFrom(row);

        Assert.NotNull(read);
        Assert.Equal(pending.Serialize(), read.Serialize());
        Assert.Equal(["met-h-2026120709", "met-m-202612070941", "met-m-202612070943"], read.Rows.Keys);
        var minute = read.Rows["met-m-202612070941"];
        Assert.Equal(["demo.fanout", "demo.steps"], minute.Keys);
        Assert.Equal((1L, 1L, 0L), (minute["demo.steps"].Created, minute["demo.steps"].Started, minute["demo.steps"].Failed));
        Assert.Equal(1, minute["demo.steps"].QueueWait.Buckets[DurationHistogram.BucketOf(250)]);
        var hour = read.Rows["met-h-2026120709"]["demo.steps"];
        Assert.Equal((1L, 1L, 1L, 90_000L), (hour.Created, hour.Started, hour.Failed, hour.Duration.MaxMs));
    }

    [Fact]
    public void NothingPending_WritesNoColumn_AndReadsAsNone()
    {
        var row = new TableEntity("idx-all-0", TableKeys.CounterRowKey) { ["Counts"] = "[]" };

        new PendingMetrics().WriteTo(row);

        Assert.DoesNotContain(row.Keys, k => k.StartsWith(PendingMetrics.ColumnPrefix, StringComparison.Ordinal));
        Assert.Null(PendingMetrics.ReadFrom(row));
    }

    [Fact]
    public void ALongPending_IsSplitOverColumnsThatEachFitAStringProperty_AndReadsBackWhole()
    {
        var pending = new PendingMetrics();
        for (var i = 0; i < 100; i++)
        {
            foreach (var type in new[] { "demo.steps", "demo.fanout", "reports.nightly" })
            {
                pending.Add(type, new MetricFact(MetricKind.Completed, At.AddMinutes(i), 1_000 + i));
            }
        }
        var row = new TableEntity("idx-all-0", TableKeys.CounterRowKey);

        pending.WriteTo(row);

        var parts = row.Where(p => p.Key.StartsWith(PendingMetrics.ColumnPrefix, StringComparison.Ordinal)).Select(p => (string)p.Value).ToList();
        Assert.True(parts.Count > 1, $"{pending.Serialize().Length} characters in {parts.Count} column(s)");
        Assert.All(parts, part => Assert.InRange(part.Length, 1, 32 * 1024)); // a string property holds 32K UTF-16 characters
        Assert.Equal(pending.Serialize(), PendingMetrics.ReadFrom(row)!.Serialize());
    }

    [Fact]
    public void TheChunkBound_HoldsWhatItsIncrementsTakeWritten_WithEveryNumberAtItsLongest_AndFitsTheCounterRow()
    {
        // A fold chunk grows while the bound stays within MaxChars: rows of many slots, types with long and escaped names.
        var types = new[] { "demo.steps", "a.type.with.a.long.name." + new string('x', 40), "typ€-with+escapes<>" };
        var bound = new PendingMetricsBound();
        var facts = new List<(string Type, MetricFact Fact)>();
        for (var i = 0; ; i++)
        {
            var type = types[i % types.Length];
            var fact = new MetricFact(MetricKind.Started, At.AddMinutes(i / 2), 5);
            if (bound.With(type, [fact]).Chars > PendingMetrics.MaxChars)
            {
                break;
            }
            bound.Add(type, [fact]);
            facts.Add((type, fact));
        }
        Assert.True(bound.Chars > PendingMetrics.MaxChars - 2_000, $"the bound stopped at {bound.Chars}");

        // The same rows and types, each holding the largest values a long takes: the longest form they can have.
        var worst = new PendingMetrics();
        foreach (var (type, rowKey) in facts.SelectMany(f => MetricRow.KeysOf(f.Fact).Select(k => (f.Type, k))).Distinct())
        {
            worst.Add(rowKey, type, Largest(type));
        }
        var json = worst.Serialize();
        // The bound counts a comma before every row and every type; the written form has one less of each per list.
        Assert.Equal(bound.Chars - bound.RowCount - 1, json.Length);
        var row = new TableEntity("idx-all-0", TableKeys.CounterRowKey);
        worst.WriteTo(row);
        Assert.InRange(row.Keys.Count(k => k.StartsWith(PendingMetrics.ColumnPrefix, StringComparison.Ordinal)), 1, PendingMetrics.MaxParts);
        Assert.Equal(json, PendingMetrics.ReadFrom(row)!.Serialize());
    }

    [Fact]
    public void APendingBeyondWhatACounterRowKeeps_IsRefused_NotTruncated()
    {
        var pending = new PendingMetrics();
        for (var i = 0; pending.Serialize().Length <= PendingMetrics.MaxChars; i++)
        {
            pending.Add("met-h-2026120709", "t" + i.ToString(CultureInfo.InvariantCulture), Largest("t"));
        }

        Assert.Throws<InvalidOperationException>(() => pending.WriteTo(new TableEntity("idx-all-0", TableKeys.CounterRowKey)));
    }

    /// <summary>A type's metrics with every number at <see cref="long.MaxValue"/>.</summary>
    private static TypeMetrics Largest(string type)
    {
        var max = long.MaxValue;
        var histogram = new { b = Enumerable.Repeat(max, DurationHistogram.Bounds.Count + 1).ToArray(), s = max, m = max };
        var json = JsonSerializer.Serialize(new { t = type, cr = max, st = max, co = max, fa = max, ca = max, to = max, qw = histogram, du = histogram });
        return TypeMetrics.FromJson(json).Metrics;
    }
}
