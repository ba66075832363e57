using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Jobs.Functions.Storage;

/// <summary>
/// Counts storage requests by service and verb at the client pipeline (each retry counts: each is billed).
/// Cheap enough to leave on: one dictionary increment per request.
/// </summary>
public sealed class StorageRequestCounter
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public StorageRequestCounter() => Policy = new CountingPolicy(this);

    public HttpPipelinePolicy Policy { get; }

    /// <summary>A copy of the counts, keyed like <c>table.GET</c> or <c>queue.POST</c>.</summary>
    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts);

    public void Reset() => _counts.Clear();

    private void Count(Request request)
    {
        var host = request.Uri.Host ?? "";
        var port = request.Uri.Port;
        // Azurite serves each service on its own port; Azure on its own host name.
        var service = host.Contains(".table.", StringComparison.Ordinal) || port == 10002 ? "table"
            : host.Contains(".queue.", StringComparison.Ordinal) || port == 10001 ? "queue"
            : host.Contains(".blob.", StringComparison.Ordinal) || port == 10000 ? "blob"
            : ServiceFromPath(request.Uri.Path);
        _counts.AddOrUpdate($"{service}.{request.Method}", 1, (_, n) => n + 1);
    }

    private static string ServiceFromPath(string path) =>
        path.Contains("/messages", StringComparison.Ordinal) ? "queue"
        : path.Contains("Tables", StringComparison.Ordinal) || path.Contains('(', StringComparison.Ordinal) ? "table"
        : "blob";

    private sealed class CountingPolicy(StorageRequestCounter owner) : HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(HttpMessage message) => owner.Count(message.Request);
    }
}
