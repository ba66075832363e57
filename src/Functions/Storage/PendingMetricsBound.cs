using Jobs.Functions.Metrics;

namespace Jobs.Functions.Storage;

/// <summary>
/// How long a <see cref="PendingMetrics"/>' stored form can grow, counted as a fold chunk gathers its facts, so the chunk
/// is cut before its increments could outgrow <see cref="PendingMetrics.MaxChars"/>: per row its key and brackets, per
/// type of a row the longest form of a <see cref="TypeMetrics"/> (every number at 19 digits, the most a non-negative
/// long has), whatever the values.
/// </summary>
public sealed class PendingMetricsBound
{
    /// <summary>The numbers in one <see cref="TypeMetrics"/>' form: six counts and two histograms of buckets, sum and maximum.</summary>
    private static readonly int NumbersPerEntry = 6 + 2 * (DurationHistogram.Bounds.Count + 1 + 2);

    private readonly Dictionary<string, HashSet<string>> _typesByRow = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _entryChars = new(StringComparer.Ordinal);

    /// <summary>Characters the stored form has at most so far (its outer brackets when empty).</summary>
    public int Chars { get; private set; } = 2;

    /// <summary>The roll-up rows counted so far.</summary>
    public int RowCount => _typesByRow.Count;

    /// <summary>What the bound would be with <paramref name="type"/>'s facts added, without adding them.</summary>
    public (int Chars, int Rows) With(string type, IEnumerable<MetricFact> facts)
    {
        var (chars, rows) = (Chars, RowCount);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in facts.SelectMany(MetricRow.KeysOf))
        {
            if (!seen.Add(key))
            {
                continue;
            }
            if (!_typesByRow.TryGetValue(key, out var types))
            {
                chars += RowChars(key);
                rows++;
            }
            if (types is null || !types.Contains(type))
            {
                chars += EntryChars(type);
            }
        }
        return (chars, rows);
    }

    /// <summary>Counts <paramref name="type"/>'s facts in.</summary>
    public void Add(string type, IEnumerable<MetricFact> facts)
    {
        foreach (var key in facts.SelectMany(MetricRow.KeysOf))
        {
            if (!_typesByRow.TryGetValue(key, out var types))
            {
                _typesByRow[key] = types = new HashSet<string>(StringComparer.Ordinal);
                Chars += RowChars(key);
            }
            if (types.Add(type))
            {
                Chars += EntryChars(type);
            }
        }
    }

    /// <summary><c>["key",[</c> … <c>]]</c> and the comma before it.</summary>
    private static int RowChars(string rowKey) => rowKey.Length + 8;

    /// <summary>The longest form of a type's metrics and the comma before it.</summary>
    private int EntryChars(string type)
    {
        if (!_entryChars.TryGetValue(type, out var chars))
        {
            _entryChars[type] = chars = new TypeMetrics().ToJson(type).Length + NumbersPerEntry * 18 + 1;
        }
        return chars;
    }
}
