using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Jobs.Functions.Metrics;

namespace Jobs.Functions.Storage;

/// <summary>
/// The roll-up increments of the fold that last committed in a partition and are not yet known to be in its roll-up rows
/// (docs/storage.md, "Metrics"): per roll-up RowKey, per job type, a <see cref="TypeMetrics"/>. A fold writes them on the
/// partition's counter row, in the transaction that folds the deltas they come from, beside the fold's sequence number;
/// it then adds them to the rows in <see cref="StorageClients.MetricsTable"/> and clears them. Stored as JSON
/// (<c>[["met-m-…",[{TypeMetrics},…]],…]</c>, the columns' own form) split over <c>PendingMetrics0</c>,
/// <c>PendingMetrics1</c>, … of at most <see cref="PartChars"/> characters each.
/// </summary>
public sealed class PendingMetrics
{
    /// <summary>The counter row's columns are this prefix and the part's index.</summary>
    public const string ColumnPrefix = "PendingMetrics";

    /// <summary>Characters in one column at most: a string property holds at most 32K UTF-16 characters.</summary>
    public const int PartChars = 32_000;

    /// <summary>Columns at most: the counter row stays far below the 1 MiB an entity may hold.</summary>
    public const int MaxParts = 8;

    /// <summary>The serialized form's length at most (<see cref="PendingMetricsBound"/> keeps a fold chunk within it).</summary>
    public const int MaxChars = PartChars * MaxParts;

    private readonly SortedDictionary<string, SortedDictionary<string, TypeMetrics>> _rows = new(StringComparer.Ordinal);

    /// <summary>Per roll-up RowKey, per type, what is to be added.</summary>
    public IReadOnlyDictionary<string, SortedDictionary<string, TypeMetrics>> Rows => _rows;

    public bool IsEmpty => _rows.Count == 0;

    /// <summary>Adds a fact of a job of <paramref name="type"/> to the minute and hour rows it falls in.</summary>
    public void Add(string type, MetricFact fact)
    {
        foreach (var key in MetricRow.KeysOf(fact))
        {
            Entry(key, type).Apply(fact);
        }
    }

    /// <summary>Adds <paramref name="metrics"/> of <paramref name="type"/> to the row <paramref name="rowKey"/>.</summary>
    public void Add(string rowKey, string type, TypeMetrics metrics) => Entry(rowKey, type).Add(metrics);

    private TypeMetrics Entry(string rowKey, string type)
    {
        if (!_rows.TryGetValue(rowKey, out var byType))
        {
            _rows[rowKey] = byType = new SortedDictionary<string, TypeMetrics>(StringComparer.Ordinal);
        }
        if (!byType.TryGetValue(type, out var metrics))
        {
            byType[type] = metrics = new TypeMetrics();
        }
        return metrics;
    }

    /// <summary>The stored form (one string; <see cref="WriteTo"/> splits it).</summary>
    public string Serialize()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var (rowKey, byType) in _rows)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(rowKey);
                writer.WriteStartArray();
                foreach (var (type, metrics) in byType)
                {
                    writer.WriteRawValue(metrics.ToJson(type));
                }
                writer.WriteEndArray();
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads <see cref="Serialize"/>'s form.</summary>
    public static PendingMetrics Parse(string json)
    {
        var pending = new PendingMetrics();
        using var document = JsonDocument.Parse(json);
        foreach (var row in document.RootElement.EnumerateArray())
        {
            var rowKey = row[0].GetString() ?? throw new JsonException("A pending roll-up without its RowKey.");
            foreach (var column in row[1].EnumerateArray())
            {
                var (type, metrics) = TypeMetrics.FromJson(column.GetRawText());
                pending.Add(rowKey, type, metrics);
            }
        }
        return pending;
    }

    /// <summary>Sets the counter row's pending columns (none when empty). The row is written whole, so no older part is left.</summary>
    public void WriteTo(TableEntity counter)
    {
        if (IsEmpty)
        {
            return;
        }
        var json = Serialize();
        if (json.Length > MaxChars)
        {
            throw new InvalidOperationException($"Pending roll-ups of {json.Length} characters exceed the {MaxChars} a counter row keeps; the fold's chunk was not bounded.");
        }
        for (var part = 0; part * PartChars < json.Length; part++)
        {
            counter[ColumnPrefix + part] = json.Substring(part * PartChars, Math.Min(PartChars, json.Length - part * PartChars));
        }
    }

    /// <summary>The pending increments a counter row holds, or null when it holds none.</summary>
    public static PendingMetrics? ReadFrom(TableEntity counter)
    {
        if (counter.GetString(ColumnPrefix + 0) is not { } first)
        {
            return null;
        }
        var json = new StringBuilder(first);
        for (var part = 1; counter.GetString(ColumnPrefix + part) is { } next; part++)
        {
            json.Append(next);
        }
        return Parse(json.ToString());
    }
}
