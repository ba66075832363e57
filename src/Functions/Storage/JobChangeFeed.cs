using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Threading.Channels;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// What this process just wrote to a job — its record as stored, and the log lines written with it — handed to the
/// event streams watching that job (<c>GET /api/jobs/{id}/events</c>), so a change made here reaches a watcher here
/// without a read. Writes made by other instances are found by the streams' own reads; this only makes the common case
/// (the step runs where the watcher is connected, as on one instance or the local runner) immediate and free.
/// Publishing to a job nobody watches is one dictionary lookup.
/// </summary>
public sealed class JobChangeFeed
{
    private readonly ConcurrentDictionary<string, ImmutableList<ChannelWriter<JobSnapshot>>> _watchers = new(StringComparer.Ordinal);

    /// <summary>Delivers the job's changes to <paramref name="writer"/> until the returned handle is disposed.</summary>
    public IDisposable Subscribe(string jobId, ChannelWriter<JobSnapshot> writer)
    {
        _watchers.AddOrUpdate(jobId, _ => [writer], (_, list) => list.Add(writer));
        return new Subscription(this, jobId, writer);
    }

    /// <summary>A record write (with the lines in its transaction) or a write of lines alone (<paramref name="job"/> null).</summary>
    public void Publish(string jobId, Job? job, IReadOnlyList<JobLogLine> lines)
    {
        if (_watchers.TryGetValue(jobId, out var writers))
        {
            var change = new JobSnapshot(job, lines);
            foreach (var writer in writers)
            {
                writer.TryWrite(change);
            }
        }
    }

    private void Unsubscribe(string jobId, ChannelWriter<JobSnapshot> writer)
    {
        while (_watchers.TryGetValue(jobId, out var list))
        {
            var rest = list.Remove(writer);
            if (rest.IsEmpty ? _watchers.TryRemove(new KeyValuePair<string, ImmutableList<ChannelWriter<JobSnapshot>>>(jobId, list)) : _watchers.TryUpdate(jobId, rest, list))
            {
                return;
            }
        }
    }

    private sealed class Subscription(JobChangeFeed feed, string jobId, ChannelWriter<JobSnapshot> writer) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                feed.Unsubscribe(jobId, writer);
            }
        }
    }
}
