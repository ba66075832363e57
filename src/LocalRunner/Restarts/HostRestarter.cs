using Jobs.LocalRunner.Durable;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Restarts;

/// <summary>
/// What the Functions host restarts after an error: the host (its trigger listeners and the durable worker, and with them
/// every invocation running), or only the worker process. It starts and stops those parts, and recycles them in-process:
/// <list type="bullet">
/// <item><see cref="RequestRestart"/> — a host error, restarted as the host's exception handler (azure-functions-host
/// <c>WebScriptHostExceptionHandler.OnUnhandledExceptionAsync</c>) restarts the host for an error a listener hands it: a
/// storage failure settling or renewing a queue message (the storage queues extension's
/// <c>QueueListener.ProcessMessageAsync</c>, <c>UpdateQueueMessageVisibilityCommand</c>), a singleton lock lost. The
/// listeners stop with their stop deadline already passed, so no message is settled and each comes back when its lease
/// ends; the durable worker stops forced, so nothing a running activity reports is sent and its work item comes back
/// after the visibility timeout; every invocation still running sees its cancellation token (<see cref="InvocationsAborted"/>);
/// then fresh listeners and a fresh durable worker start. The HTTP front end stays up, as the host's web host does.</item>
/// <item><see cref="RequestWorkerRestart"/> — a function still running a grace period after its <c>functionTimeout</c>:
/// the host restarts the worker process that runs it (<c>OnTimeoutExceptionAsync</c> →
/// <c>RestartWorkerWithInvocationIdAsync</c>), so every invocation in it fails; the host's listeners and the durable
/// extension live on and settle those failures as any other (a queue message is released or poisoned, an activity
/// fails and the orchestration's retry policy applies). The runner cancels every running invocation.</item>
/// </list>
/// Each is logged and counted (<see cref="Restarts"/>, <see cref="WorkerRestarts"/>). On by default, because the host
/// does it; <c>Jobs:Runner:RestartOnHostErrors=false</c> turns both off, and the runner then logs such an error and
/// carries on (docs/decisions.md, "Issue 30 — restart mode").
/// </summary>
public sealed partial class HostRestarter : IHostedService, IAsyncDisposable
{
    /// <summary>The setting that turns restarts off (<c>Jobs__Runner__RestartOnHostErrors=false</c>).</summary>
    public const string Setting = "Jobs:Runner:RestartOnHostErrors";

    private readonly DurableEngine? _engine;
    private readonly IReadOnlyList<Func<IHostedService>> _listenerFactories;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<Task> _restarts = [];
    private List<IHostedService> _listeners = [];
    private CancellationTokenSource _invocations = new();
    private int _restartCount;
    private int _workerRestartCount;
    private readonly Lock _workerRestartLock = new();
    private bool _stopped;

    /// <summary>
    /// Owns <paramref name="engine"/>'s worker (null: a host with triggers only, as in listener tests) and the listeners
    /// <paramref name="listenerFactories"/> make, fresh ones on each start.
    /// </summary>
    public HostRestarter(DurableEngine? engine, IReadOnlyList<Func<IHostedService>> listenerFactories, IConfiguration configuration, ILogger<HostRestarter> logger)
    {
        _engine = engine;
        _listenerFactories = listenerFactories;
        _logger = logger;
        Enabled = configuration.GetValue(Setting, true);
    }

    /// <summary>Whether host errors restart the host (the default) or are only logged.</summary>
    public bool Enabled { get; }

    /// <summary>How many restarts have completed since the runner started.</summary>
    public int Restarts => Volatile.Read(ref _restartCount);

    /// <summary>How many worker restarts (functionTimeout) have happened since the runner started.</summary>
    public int WorkerRestarts => Volatile.Read(ref _workerRestartCount);

    /// <summary>Cancelled when a restart begins: every invocation the runner makes is linked to it.</summary>
    public CancellationToken InvocationsAborted => Volatile.Read(ref _invocations).Token;

    /// <summary>The listeners now serving (fresh ones after each restart).</summary>
    public IReadOnlyList<IHostedService> Listeners => Volatile.Read(ref _listeners);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_engine is not null)
        {
            await _engine.StartAsync(cancellationToken);
        }
        await StartListenersAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            _stopped = true;
            await StopListenersAsync(cancellationToken);
            if (_engine is not null)
            {
                await _engine.StopAsync(cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A host error: restarts the host in the background (the host does not wait for it either — the error may come
    /// from a listener that cannot stop until it returns) and answers true; or, with restarts off, answers false and the
    /// caller logs the error and carries on.
    /// </summary>
    public bool RequestRestart(string reason, Exception? cause)
    {
        if (!Enabled)
        {
            return false;
        }
        lock (_restarts)
        {
            _restarts.RemoveAll(t => t.IsCompleted);
            _restarts.Add(Task.Run(() => RestartAsync(reason, cause)));
        }
        return true;
    }

    /// <summary>
    /// A worker restart: every invocation running is aborted at once (their tokens are cancelled, as when the worker
    /// process goes away) and fails; the listeners and the durable worker go on. False when restarts are off.
    /// </summary>
    public bool RequestWorkerRestart(string reason, Exception? cause)
    {
        if (!Enabled)
        {
            return false;
        }
        lock (_workerRestartLock)
        {
            // Logged before it is counted: whoever sees the count sees the log entry too.
            LogWorkerRestarting(cause, reason, _workerRestartCount + 1);
            Volatile.Write(ref _workerRestartCount, _workerRestartCount + 1);
        }
        Interlocked.Exchange(ref _invocations, new CancellationTokenSource()).Cancel();
        return true;
    }

    private async Task RestartAsync(string reason, Exception? cause)
    {
        await _gate.WaitAsync();
        try
        {
            if (_stopped)
            {
                return;
            }
            LogRestarting(cause, reason, _restartCount + 1);
            // The order matters: the listeners stop first with their deadline passed, so what their functions do when
            // cancelled is never settled; the durable worker stops forced before anything else is cancelled, so no
            // activity reports a result; then whatever still runs (HTTP requests) sees its token, as the worker goes away.
            using (var deadlinePassed = new CancellationTokenSource())
            {
                await deadlinePassed.CancelAsync();
                await StopListenersAsync(deadlinePassed.Token);
            }
            if (_engine is not null)
            {
                await _engine.RestartWorkerAsync();
            }
            await Interlocked.Exchange(ref _invocations, new CancellationTokenSource()).CancelAsync();
            await StartListenersAsync(CancellationToken.None);
            var count = Interlocked.Increment(ref _restartCount);
            LogRestarted(count);
        }
        catch (Exception ex)
        {
            LogRestartFailed(ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StartListenersAsync(CancellationToken cancellationToken)
    {
        var listeners = _listenerFactories.Select(create => create()).ToList();
        foreach (var listener in listeners)
        {
            await listener.StartAsync(cancellationToken);
        }
        Volatile.Write(ref _listeners, listeners);
    }

    private async Task StopListenersAsync(CancellationToken cancellationToken)
    {
        var listeners = Interlocked.Exchange(ref _listeners, []);
        foreach (var listener in Enumerable.Reverse(listeners))
        {
            await listener.StopAsync(cancellationToken);
            // A listener stopped past its deadline may still be finishing its runs: dispose it once it has.
            if (listener is BackgroundService { ExecuteTask: { IsCompleted: false } running } background)
            {
                _ = running.ContinueWith(_ => background.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
            else
            {
                (listener as IDisposable)?.Dispose();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task[] pending;
        lock (_restarts)
        {
            pending = [.. _restarts];
        }
        await Task.WhenAll(pending);
        _invocations.Dispose();
        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A host error occurred: {Reason}. Restarting the host (restart {Restart}): listeners and the durable worker stop and start again, and running invocations are cancelled.")]
    private partial void LogRestarting(Exception? exception, string reason, int restart);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Reason}. Restarting the worker (worker restart {Restart}): every invocation running in it is aborted.")]
    private partial void LogWorkerRestarting(Exception? exception, string reason, int restart);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host restarted (restart {Restart}).")]
    private partial void LogRestarted(int restart);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Restarting the host failed.")]
    private partial void LogRestartFailed(Exception exception);
}
