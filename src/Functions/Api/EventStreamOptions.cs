using System.ComponentModel.DataAnnotations;

namespace Jobs.Functions.Api;

/// <summary>Settings of <c>GET /api/jobs/{id}/events</c>, bound from <c>Jobs:Events</c>.</summary>
public sealed class EventStreamOptions
{
    public const string Section = "Jobs:Events";

    /// <summary>Open streams one caller may hold on one instance; one more is a 429.</summary>
    [Range(1, 1_000)]
    public int MaxStreamsPerCaller { get; set; } = 5;

    /// <summary>
    /// A stream ends by itself after this long, with a <c>retry:</c> hint; the client reconnects with
    /// <c>Last-Event-ID</c> and goes on. Azure's front end closes HTTP responses idle or open for longer (230 s).
    /// </summary>
    [Range(1, 3_600)]
    public int MaxStreamSeconds { get; set; } = 110;

    /// <summary>A comment line is sent when nothing else was for this long, so proxies keep the connection.</summary>
    [Range(1, 300)]
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>
    /// How often the stream reads the job (record and new lines, one request), for changes made by other instances;
    /// changes made in this process arrive at once without a read. 1,000 ms costs what polling <c>/status</c> once a
    /// second does.
    /// </summary>
    [Range(100, 60_000)]
    public int PollMilliseconds { get; set; } = 1_000;

    /// <summary>
    /// A log line is sent once it is this old, in cursor order: lines written by concurrent writers (parallel items, a
    /// cancel request) can land a little out of order, and holding each line this long lets an earlier one arrive first,
    /// so the stream's order — and a resume after an id — matches the log's.
    /// </summary>
    [Range(0, 10_000)]
    public int SettleMilliseconds { get; set; } = 300;
}
