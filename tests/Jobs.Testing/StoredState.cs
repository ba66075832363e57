using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace Jobs.Testing;

/// <summary>
/// What a runner has stored, captured so a test can show a refused request changed nothing: every entity of the app's
/// tables (<c>{TablePrefix}Jobs</c>: records, log lines, list rows, counts, idempotency claims; <c>{TablePrefix}JobMetrics</c>:
/// the metrics' roll-ups) and of the task hub's
/// <c>Instances</c> and <c>History</c> tables, each with its ETag, so a rewrite with the same values counts as a change.
/// <code>
/// var before = await StoredState.CaptureAsync(runner);
/// // ... the hostile request ...
/// await before.AssertUnchangedAsync();
/// </code>
/// A test whose fixture has other jobs still running (their rows move on their own) narrows the capture to the
/// partitions the request could touch, e.g. <c>StoredState.CaptureAsync(runner, pk => pk == id || pk.StartsWith("idx-owner-"))</c>;
/// in the hub's tables the partition is the job's id (its orchestration's instance id).
/// </summary>
public sealed class StoredState
{
    private readonly RunnerFixture _runner;
    private readonly Func<string, bool> _partitions;
    private readonly Dictionary<string, string> _entities;

    private StoredState(RunnerFixture runner, Func<string, bool> partitions, Dictionary<string, string> entities)
    {
        _runner = runner;
        _partitions = partitions;
        _entities = entities;
    }

    /// <summary>How many entities were captured (a test can check its scope is not empty).</summary>
    public int Count => _entities.Count;

    /// <summary>
    /// Captures the entities of <paramref name="runner"/>'s tables whose PartitionKey <paramref name="partitions"/>
    /// accepts (all of them when null). A table not created yet counts as empty.
    /// </summary>
    public static async Task<StoredState> CaptureAsync(RunnerFixture runner, Func<string, bool>? partitions = null)
    {
        partitions ??= _ => true;
        return new StoredState(runner, partitions, await ReadAsync(runner, partitions));
    }

    /// <summary>Captures again, with the same scope.</summary>
    public Task<StoredState> RecaptureAsync() => CaptureAsync(_runner, _partitions);

    /// <summary>Each entity added, removed or rewritten between this capture and <paramref name="later"/>, in words.</summary>
    public IReadOnlyList<string> DifferencesFrom(StoredState later)
    {
        var differences = new List<string>();
        foreach (var (key, value) in _entities.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!later._entities.TryGetValue(key, out var now))
            {
                differences.Add($"removed {key}");
            }
            else if (now != value)
            {
                differences.Add($"changed {key}: {value} -> {now}");
            }
        }
        differences.AddRange(later._entities.Keys.Where(k => !_entities.ContainsKey(k)).Order(StringComparer.Ordinal)
            .Select(k => $"added {k}: {later._entities[k]}"));
        return differences;
    }

    /// <summary>Captures again and fails, listing what changed, unless every captured entity is as it was.</summary>
    public async Task AssertUnchangedAsync()
    {
        var differences = DifferencesFrom(await RecaptureAsync());
        Assert.True(differences.Count == 0, "Stored state changed:\n" + string.Join("\n", differences));
    }

    private static async Task<Dictionary<string, string>> ReadAsync(RunnerFixture runner, Func<string, bool> partitions)
    {
        var entities = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in new[] { runner.TablePrefix + "Jobs", runner.TablePrefix + "JobMetrics", runner.HubName + "Instances", runner.HubName + "History" })
        {
            var client = new TableClient(TestStorage.ConnectionString, table);
            try
            {
                await foreach (var entity in client.QueryAsync<TableEntity>())
                {
                    if (partitions(entity.PartitionKey))
                    {
                        entities[$"{table}/{entity.PartitionKey}/{entity.RowKey}"] = Describe(entity);
                    }
                }
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Not created yet: nothing stored there.
            }
        }
        return entities;
    }

    private static string Describe(TableEntity entity) =>
        $"etag {entity.ETag} {{" + string.Join(", ", entity
            .Where(p => p.Key is not ("odata.etag" or "PartitionKey" or "RowKey" or "Timestamp"))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={Convert.ToString(p.Value is byte[] bytes ? Convert.ToBase64String(bytes) : p.Value, CultureInfo.InvariantCulture)}")) + "}";
}
