using Jobs.Functions.Model;
using Microsoft.Extensions.Caching.Memory;

namespace Jobs.Functions.Storage;

/// <summary>
/// The record (with its ETag) this process last wrote or read for each job its activities work on, so the next step
/// boundary writes under that ETag without reading first: one request instead of two. Safe because it is only ever
/// used to decide a conditional write — if another process changed the record, the ETag no longer matches and the
/// store reads it afresh — and never to answer a client. Bounded; entries expire when unused.
/// </summary>
public sealed class JobRecordCache : IDisposable
{
    /// <summary>Entries kept at most: about the jobs one worker runs at once, with room to spare.</summary>
    internal const int Capacity = 10_000;

    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(10);
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Capacity, CompactionPercentage = 0.25 });

    public Job? Get(string id) => _cache.TryGetValue(id, out Job? job) ? job : null;

    public void Set(Job job) =>
        _cache.Set(job.Id, job, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = Idle });

    public void Remove(string id) => _cache.Remove(id);

    public void Dispose() => _cache.Dispose();
}
