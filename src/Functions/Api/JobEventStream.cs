using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Api;

/// <summary>
/// Where a client is in a job's event stream — the <c>id:</c> of every event, and what <c>Last-Event-ID</c> resumes
/// from: the version of the last status it got (the record's <c>updatedAt</c> in ticks), the cursor of the last log line
/// (lines go out in cursor order), and whether it got the <c>end</c>.
/// </summary>
public sealed record EventPosition(long StatusVersion, string? Cursor, bool Ended = false)
{
    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{StatusVersion}.{Cursor ?? "-"}{(Ended ? ".end" : "")}");

    public static bool TryParse(string? text, out EventPosition? position)
    {
        position = null;
        var parts = text?.Split('.') ?? [];
        var ended = parts.Length == 3 && parts[2] == "end";
        if (parts.Length != 2 && !ended || parts[0].Length > 19
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || parts[1] != "-" && !LogCursors.IsValid(parts[1]))
        {
            return false;
        }
        position = new EventPosition(version, parts[1] == "-" ? null : parts[1], ended);
        return true;
    }
}

/// <summary>
/// The Server-Sent Events stream of one job (<c>GET /api/jobs/{id}/events</c>): <c>status</c> (<see cref="JobEventStatus"/>,
/// whenever it changes), <c>log</c> (one line each, in cursor order, never twice) and <c>end</c> (the final status;
/// then the stream closes). Changes made in this process arrive through <see cref="JobChangeFeed"/> at once; others by
/// a read of the job's partition (record and new lines, one request) every <see cref="EventStreamOptions.PollMilliseconds"/>.
/// A comment keeps the connection alive; after <see cref="EventStreamOptions.MaxStreamSeconds"/> the stream ends with a
/// <c>retry:</c> hint and the client resumes with <c>Last-Event-ID</c>.
/// </summary>
public sealed partial class JobEventStream(
    JobPartitionReader reader, JobChangeFeed feed, IOptions<EventStreamOptions> options, TimeProvider time, ILogger<JobEventStream> logger)
{
    /// <summary>Lines read per request.</summary>
    private const int PageLines = 500;

    /// <summary>How far before the last line sent each read looks again, for a line that landed late with an earlier cursor.</summary>
    private static readonly TimeSpan LateLineWindow = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>Counts a stream against the caller's cap; null when the caller already has as many as allowed.</summary>
    public IDisposable? TryOpen(string callerId)
    {
        var max = options.Value.MaxStreamsPerCaller;
        while (true)
        {
            var open = _open.GetOrAdd(callerId, 0);
            if (open >= max)
            {
                return null;
            }
            if (_open.TryUpdate(callerId, open + 1, open))
            {
                return new Slot(this, callerId);
            }
        }
    }

    private void Release(string callerId)
    {
        while (_open.TryGetValue(callerId, out var open))
        {
            if (open <= 1 ? _open.TryRemove(new KeyValuePair<string, int>(callerId, open)) : _open.TryUpdate(callerId, open - 1, open))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Streams <paramref name="job"/> (as just read) from <paramref name="resume"/> until it ends, the stream's time is
    /// up, or the client goes. <paramref name="send"/> writes and flushes one chunk of the event-stream text.
    /// </summary>
    public async Task RunAsync(Job job, EventPosition? resume, Func<string, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var channel = Channel.CreateUnbounded<JobSnapshot>(new UnboundedChannelOptions { SingleReader = true });
        using var subscription = feed.Subscribe(job.Id, channel.Writer);
        var state = new StreamState(job, resume);
        var now = time.GetUtcNow();
        var closeAt = now + TimeSpan.FromSeconds(settings.MaxStreamSeconds);
        var heartbeat = TimeSpan.FromSeconds(settings.HeartbeatSeconds);
        var poll = TimeSpan.FromMilliseconds(settings.PollMilliseconds);
        var settle = TimeSpan.FromMilliseconds(settings.SettleMilliseconds);
        var lastSent = now;
        await send("retry: 2000\n\n", cancellationToken);
        await ReadAsync(state, cancellationToken);
        var nextRead = time.GetUtcNow() + poll;
        var finalRead = false;
        while (true)
        {
            if (state.Current is null)
            {
                return; // deleted while watched (retention, a purge): nothing more will come
            }
            if (state.Current.Status.IsTerminal() && !finalRead)
            {
                // The ending's lines ride in its record write; one more read makes sure lines of other writers are in too.
                await ReadAsync(state, cancellationToken);
                finalRead = true;
            }
            now = time.GetUtcNow();
            var text = state.Emit(finalRead, now - settle);
            if (text.Length > 0)
            {
                await send(text, cancellationToken);
                lastSent = now;
            }
            if (state.Ended)
            {
                LogEnded(job.Id);
                return;
            }
            if (now >= closeAt)
            {
                await send("retry: 1000\n\n", cancellationToken);
                return;
            }
            if (now - lastSent >= heartbeat)
            {
                await send(": keep-alive\n\n", cancellationToken);
                lastSent = now;
            }
            var wake = Min(nextRead, lastSent + heartbeat, closeAt, state.NextSettle(settle) ?? DateTimeOffset.MaxValue);
            var delay = wake - time.GetUtcNow();
            if (delay > TimeSpan.Zero)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(delay);
                try
                {
                    await channel.Reader.WaitToReadAsync(timeout.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // woken by the time
                }
            }
            while (channel.Reader.TryRead(out var change))
            {
                state.Absorb(change);
            }
            if (time.GetUtcNow() >= nextRead)
            {
                await ReadAsync(state, cancellationToken);
                nextRead = time.GetUtcNow() + poll;
            }
        }
    }

    /// <summary>Reads the record and the lines from a little before the last one sent, page by page.</summary>
    private async Task ReadAsync(StreamState state, CancellationToken cancellationToken)
    {
        var after = state.ReadFrom(LateLineWindow);
        while (true)
        {
            var snapshot = await reader.ReadAsync(state.JobId, after, PageLines, cancellationToken);
            state.Absorb(snapshot, fromStorage: true);
            if (snapshot.Lines.Count < PageLines)
            {
                return;
            }
            after = snapshot.Lines[^1].Cursor;
        }
    }

    private static DateTimeOffset Min(params DateTimeOffset[] times) => times.Min();

    /// <summary>What one stream has sent and holds: the job as last seen, lines waiting to settle, lines sent lately.</summary>
    private sealed class StreamState(Job job, EventPosition? resume)
    {
        private readonly SortedDictionary<string, JobLogLine> _pending = new(StringComparer.Ordinal);
        private readonly SortedSet<string> _recent = new(StringComparer.Ordinal);
        private readonly string? _floor = resume?.Cursor;
        private long? _version = resume?.StatusVersion;
        private string? _cursor = resume?.Cursor;

        public string JobId { get; } = job.Id;
        public Job? Current { get; private set; } = job;
        public bool Ended { get; private set; }

        public void Absorb(JobSnapshot change, bool fromStorage = false)
        {
            if (change.Job is { } seen)
            {
                if (Current is null || seen.UpdatedAt >= Current.UpdatedAt)
                {
                    Current = seen;
                }
            }
            else if (fromStorage)
            {
                Current = null; // the record is gone
            }
            foreach (var line in change.Lines)
            {
                if ((_floor is null || string.CompareOrdinal(line.Cursor, _floor) > 0) && !_recent.Contains(line.Cursor))
                {
                    _pending.TryAdd(line.Cursor, line);
                }
            }
        }

        /// <summary>The cursor to read after: the last line sent, less the late-line window (never before the resume point).</summary>
        public string? ReadFrom(TimeSpan window)
        {
            if (_cursor is null)
            {
                return _floor;
            }
            var from = LogCursors.Before(_cursor, window);
            return _floor is not null && string.CompareOrdinal(_floor, from) > 0 ? _floor : from;
        }

        /// <summary>When the oldest held line settles.</summary>
        public DateTimeOffset? NextSettle(TimeSpan settle) => _pending.Count == 0 ? null : _pending.First().Value.Timestamp + settle;

        /// <summary>The events due now: the status when it changed, settled lines in cursor order, and the end when it came.</summary>
        public string Emit(bool final, DateTimeOffset settledBefore)
        {
            var text = new StringBuilder();
            if (Current is { } job && job.UpdatedAt.UtcTicks != _version)
            {
                _version = job.UpdatedAt.UtcTicks;
                Event(text, "status", new EventPosition(_version.Value, _cursor), JobRepresentation.Event(job));
            }
            while (_pending.Count > 0)
            {
                var (cursor, line) = _pending.First();
                if (!final && line.Timestamp > settledBefore)
                {
                    break; // this one and every later one wait: an earlier line may still land
                }
                _pending.Remove(cursor);
                _recent.Add(cursor);
                if (_cursor is null || string.CompareOrdinal(cursor, _cursor) > 0)
                {
                    _cursor = cursor;
                }
                Event(text, "log", new EventPosition(_version ?? 0, _cursor), line);
            }
            TrimRecent();
            if (final && Current is { } ended && ended.Status.IsTerminal() && _pending.Count == 0)
            {
                Event(text, "end", new EventPosition(_version ?? 0, _cursor, Ended: true), JobRepresentation.Event(ended));
                Ended = true;
            }
            return text.ToString();
        }

        private void TrimRecent()
        {
            if (_cursor is null)
            {
                return;
            }
            var keepFrom = ReadFrom(LateLineWindow + LateLineWindow)!;
            while (_recent.Count > 0 && string.CompareOrdinal(_recent.Min, keepFrom) < 0)
            {
                _recent.Remove(_recent.Min!);
            }
        }

        private static void Event<T>(StringBuilder text, string name, EventPosition id, T data) =>
            text.Append("id: ").Append(id.Format()).Append("\nevent: ").Append(name).Append("\ndata: ")
                .Append(JsonSerializer.Serialize(data, JobJson.Options)).Append("\n\n");
    }

    private sealed class Slot(JobEventStream streams, string callerId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                streams.Release(callerId);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event stream of job {JobId} sent its end.")]
    private partial void LogEnded(string jobId);
}
