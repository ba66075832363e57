using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Orchestration;

/// <summary>
/// A running step's progress and log lines, gathered and written together: at most every <see cref="FlushInterval"/>
/// one transaction in the job's partition carries the record's progress and every line since the last one, so a
/// poller sees them within a second while a chatty step costs a few requests instead of one per call. A step that
/// ends before its lines were written hands them back (<see cref="CloseAsync"/>) and the orchestration carries them to
/// the next activity, which writes them with its own record change — no write happens after the handler returned.
/// A write that fails keeps its lines for the next one (lines are keyed when made, so writing twice is harmless),
/// never failing the step; a cancel request or ending seen by a write cancels <see cref="Cancelled"/>.
/// </summary>
/// <remarks>
/// For an item of a parallel step (<paramref name="item"/> names it), lines are prefixed with the item and progress is
/// the orchestration's to aggregate: a report only makes the next write look whether the job was asked to cancel.
/// </remarks>
internal sealed partial class BufferedStepReporter(
    JobStore store, JobLogStore logs, Job started, string step, int stepIndex, int stepCount, TimeProvider time, ILogger logger, string? item = null)
    : IJobStepReporter
{
    /// <summary>Longest a line or a progress report waits before it is written.</summary>
    internal static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Lines gathered that make the handler wait for a write at once (and the most a step hands back, normally).</summary>
    internal const int FlushAtLines = 50;

    /// <summary>Characters gathered that do the same: lines handed back travel in the orchestration's history, so keep them small.</summary>
    internal const int FlushAtChars = 16_000;

    /// <summary>Lines kept while writes fail before the step itself fails as the engine's fault.</summary>
    internal const int MaxHeldLines = 1_000;

    private readonly object _gate = new();
    private readonly List<JobLogLine> _pending = [];
    private readonly CancellationTokenSource _cancelled = new();
    private (int Overall, string? Message)? _progress;
    private Job _known = started;
    private Task _flushing = Task.CompletedTask;
    private ITimer? _timer;
    private bool _closed;

    /// <summary>Cancelled once a write finds the job ended or asked to cancel.</summary>
    public CancellationToken Cancelled => _cancelled.Token;

    /// <summary>The bookkeeping failure that made the step fail, if it came to that (see <see cref="MaxHeldLines"/>).</summary>
    public JobBookkeepingException? Fault { get; private set; }

    public Task<bool> ReportProgressAsync(int stepPercent, string? message, CancellationToken cancellationToken)
    {
        var overall = JobProgress.Within(stepIndex, stepCount, stepPercent);
        lock (_gate)
        {
            _progress = (Math.Max(overall, _progress?.Overall ?? 0), message ?? _progress?.Message);
            ArmFlush();
        }
        return Task.FromResult(_cancelled.IsCancellationRequested);
    }

    public async Task LogAsync(JobLogLevel level, string message, CancellationToken cancellationToken)
    {
        bool full;
        lock (_gate)
        {
            _pending.Add(logs.NewLine(level, item is null ? message : $"[{item}] {message}", step));
            full = _pending.Count >= FlushAtLines || _pending.Sum(line => line.Message.Length) >= FlushAtChars;
            ArmFlush();
        }
        if (!full)
        {
            return;
        }
        await FlushAsync();
        if (HeldLines() >= MaxHeldLines)
        {
            Fault = new JobBookkeepingException($"{HeldLines()} log lines of step {step} could not be written", new InvalidOperationException("log writes keep failing"));
            throw Fault;
        }
    }

    /// <summary>Stops writing, waits for a write under way, and returns the lines still unwritten, oldest first.</summary>
    public async Task<IReadOnlyList<JobLogLine>> CloseAsync()
    {
        Task running;
        lock (_gate)
        {
            _closed = true;
            _timer?.Dispose();
            _timer = null;
            running = _flushing;
        }
        await running;
        lock (_gate)
        {
            return [.. _pending];
        }
    }

    private int HeldLines()
    {
        lock (_gate)
        {
            return _pending.Count;
        }
    }

    // Caller holds _gate. One timer at a time: a flush at most every FlushInterval.
    private void ArmFlush()
    {
        if (_timer is null && !_closed)
        {
            _timer = time.CreateTimer(_ => _ = FlushAsync(), null, FlushInterval, Timeout.InfiniteTimeSpan);
        }
    }

    private Task FlushAsync()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return _flushing;
            }
            // Writes run one after another, in order.
            _flushing = _flushing.ContinueWith(_ => WriteHeldAsync(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
            return _flushing;
        }
    }

    private async Task WriteHeldAsync()
    {
        List<JobLogLine> lines;
        (int Overall, string? Message)? progress;
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
            lines = [.. _pending];
            progress = _progress;
            _progress = null;
        }
        if (lines.Count == 0 && progress is null)
        {
            return;
        }
        try
        {
            if (progress is not null && item is not null)
            {
                await logs.WriteAsync(_known.Id, lines, CancellationToken.None);
                if (await store.GetAsync(_known.Id, CancellationToken.None) is not { } current || current.CancelRequested || current.Status.IsTerminal())
                {
                    await _cancelled.CancelAsync();
                }
            }
            else if (progress is { } report)
            {
                var update = await store.UpdateAsync(_known, current => JobTransitions.ReportProgress(current, report.Overall, report.Message),
                    CancellationToken.None, new JobWrite { Lines = lines });
                if (update is not null)
                {
                    _known = update.Job;
                }
                if (update is null || update.Job.CancelRequested || update.Job.Status.IsTerminal())
                {
                    await _cancelled.CancelAsync();
                }
            }
            else
            {
                await logs.WriteAsync(_known.Id, lines, CancellationToken.None);
            }
            lock (_gate)
            {
                _pending.RemoveRange(0, lines.Count); // lines made meanwhile came after these
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            lock (_gate)
            {
                _progress ??= progress;
                ArmFlush(); // try again in a moment, so the lines still show while the step runs
            }
            LogWriteFailed(ex, _known.Id, step, lines.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} step {Step}: writing {Lines} log lines and progress failed; they are kept for the next write.")]
    private partial void LogWriteFailed(Exception exception, string jobId, string step, int lines);
}
