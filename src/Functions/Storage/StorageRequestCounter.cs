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

    /// <summary>A policy for one service's clients; every request it sees is counted as <c>{service}.{verb}</c>.</summary>
    public HttpPipelinePolicy PolicyFor(string service) => new CountingPolicy(this, service);

    /// <summary>A copy of the counts, keyed like <c>table.GET</c> or <c>queue.POST</c>.</summary>
    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts);

    public void Reset() => _counts.Clear();

    private sealed class CountingPolicy(StorageRequestCounter owner, string service) : HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(HttpMessage message) =>
            owner._counts.AddOrUpdate($"{service}.{message.Request.Method}", 1, (_, n) => n + 1);
    }
}
