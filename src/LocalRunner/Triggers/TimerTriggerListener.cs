using Azure.Storage.Blobs;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Jobs.LocalRunner.Restarts;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// Fires one <c>[TimerTrigger]</c> function as the host's timer extension does (<c>TimerListener</c> behind a
/// <c>SingletonListener</c>): the schedule is an NCRONTAB expression (six fields or five) or a TimeSpan, in the zone
/// <see cref="TimerTimeZone"/> picks; only the host holding the timer's <see cref="BlobListenerLock"/> runs it, and the
/// others try again every <c>singleton.listenerLockRecoveryPollingInterval</c>. With <c>UseMonitor</c> (on unless the
/// schedule fires more than once a minute) the last and next occurrences are kept by <see cref="BlobScheduleMonitor"/>,
/// and an occurrence missed while no host ran the timer runs at once on start-up with <c>IsPastDue</c>; otherwise
/// <c>RunOnStartup</c> runs it once at start-up. Runs never overlap: the next occurrence is computed from the one that
/// fired. <c>%Setting%</c> in the schedule is read from app settings; <c>Jobs:Runner:Schedules:&lt;function&gt;</c>
/// replaces a schedule for tests.
/// </summary>
public sealed partial class TimerTriggerListener : BackgroundService
{
    // Task.Delay cannot wait longer than about 49 days; the host's timer splits long waits the same way.
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(24);

    private readonly FunctionDescriptor _function;
    private readonly BlobServiceClient _hostBlobs;
    private readonly HostSettings _host;
    private readonly IConfiguration _configuration;
    private readonly IHostEnvironment _environment;
    private readonly DurableTaskClient _durable;
    private readonly TimeProvider _time;
    private readonly IServiceProvider _services;
    private readonly ILogger<TimerTriggerListener> _logger;
    private readonly HostRestarter? _restarter;

    public TimerTriggerListener(
        FunctionDescriptor function, BlobServiceClient hostBlobs, HostSettings host, IConfiguration configuration, IHostEnvironment environment,
        DurableTaskClient durable, TimeProvider time, IServiceProvider services, ILogger<TimerTriggerListener> logger, HostRestarter? restarter = null)
    {
        _restarter = restarter;
        _function = function;
        _hostBlobs = hostBlobs;
        _host = host;
        _configuration = configuration;
        _environment = environment;
        _durable = durable;
        _time = time;
        _services = services;
        _logger = logger;
        // Test-only: the runner may run a timer on another schedule (Jobs:Runner:Schedules:<function>), so maintenance
        // tests need not wait a minute. The Functions host has no such override; production uses the attribute's.
        var expression = configuration[$"Jobs:Runner:Schedules:{function.Name}"] ?? function.Timer!.Schedule;
        Schedule = TimerSchedule.Create(AppSettingExpressions.Resolve(configuration, expression, function.Name), TimerTimeZone.Resolve(configuration));
        UseMonitor = function.Timer!.UseMonitor && !Schedule.FiresMoreThanOncePerMinute(time.GetUtcNow());
    }

    /// <summary>The host's name for the timer (its generated <c>Host.Functions</c> method), used in its blob paths.</summary>
    public string TimerName => "Host.Functions." + _function.Name;

    public TimerSchedule Schedule { get; }

    public bool UseMonitor { get; }

    private enum Reason
    {
        Schedule,
        PastDue,
        RunOnStartup,
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var hostId = HostId.Resolve(_configuration, _environment.ContentRootPath);
        var container = _hostBlobs.GetBlobContainerClient(BlobScheduleMonitor.ContainerName);
        var monitor = UseMonitor ? new BlobScheduleMonitor(container, hostId, _logger) : null;
        var lockBlob = $"locks/{hostId}/{TimerName}.Listener";
        LogSchedule(_function.Name, Schedule.ToString() ?? "", Schedule.Zone.Id, UseMonitor);
        while (!stoppingToken.IsCancellationRequested)
        {
            BlobListenerLock? held = null;
            try
            {
                held = await BlobListenerLock.TryAcquireAsync(container, lockBlob, _host.ListenerLockPeriod, _time, _logger, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogLockFailed(ex, _function.Name);
            }
            if (held is null)
            {
                LogNotHolder(_function.Name, hostId);
                await WaitAsync(_host.ListenerLockRecoveryPollingInterval, stoppingToken);
                continue;
            }
            await using (held)
            {
                using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, held.Lost);
                try
                {
                    await RunAsync(monitor, running.Token);
                }
                catch (OperationCanceledException) when (running.IsCancellationRequested)
                {
                    // A lock lost while held is a host error (SingletonListener's renewal hands it to the host's
                    // exception handler): the host restarts; with restarts off the timer tries for its lock again.
                    if (held.Lost.IsCancellationRequested && !stoppingToken.IsCancellationRequested
                        && _restarter?.RequestRestart($"timer {_function.Name} lost its singleton lock", null) == true)
                    {
                        return;
                    }
                }
                catch (Exception ex)
                {
                    // Reading the schedule status failed (storage down): let go of the lock and start again later.
                    LogRunFailed(ex, _function.Name);
                }
            }
            if (!stoppingToken.IsCancellationRequested)
            {
                await WaitAsync(_host.ListenerLockRecoveryPollingInterval, stoppingToken);
            }
        }
    }

    /// <summary>The timer while this host holds its lock: the start-up run if one is due, then every occurrence.</summary>
    private async Task RunAsync(BlobScheduleMonitor? monitor, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        ScheduleStatusRecord? status = null;
        var pastDue = false;
        if (monitor is not null)
        {
            var recorded = await monitor.GetStatusAsync(TimerName, cancellationToken);
            (var late, status) = await monitor.CheckPastDueAsync(TimerName, now, Schedule, recorded);
            pastDue = late > TimeSpan.Zero;
        }
        status ??= new ScheduleStatusRecord(ScheduleStatusRecord.Unset, Schedule.GetNextOccurrence(now), ScheduleStatusRecord.Unset);
        if (pastDue)
        {
            LogPastDue(_function.Name, status.Next);
            status = await InvokeAsync(monitor, status, Reason.PastDue, cancellationToken);
        }
        else if (_function.Timer!.RunOnStartup)
        {
            status = await InvokeAsync(monitor, status, Reason.RunOnStartup, cancellationToken);
        }
        while (true)
        {
            for (var wait = status.Next - _time.GetUtcNow(); wait > TimeSpan.Zero; wait = status.Next - _time.GetUtcNow())
            {
                await Task.Delay(wait < MaxWait ? wait : MaxWait, _time, cancellationToken);
            }
            status = await InvokeAsync(monitor, status, Reason.Schedule, cancellationToken);
        }
    }

    private async Task<ScheduleStatusRecord> InvokeAsync(BlobScheduleMonitor? monitor, ScheduleStatusRecord status, Reason reason, CancellationToken cancellationToken)
    {
        var invoked = _time.GetUtcNow();
        // The function sees the status as it was before this run, and only when the timer is monitored.
        var info = new TimerInfo { IsPastDue = reason == Reason.PastDue, ScheduleStatus = monitor is null ? null : status.ToWorker() };
        try
        {
            await FunctionInvoker.InvokeAsync(_function, new InvocationContext(_services, info, _durable, cancellationToken));
        }
        catch (Exception ex)
        {
            // A failed run does not stop the schedule (the host's listener catches it too).
            LogFailed(ex, _function.Name);
        }
        // A timer that fired a little early counts from its scheduled time, so Next cannot repeat after a restart.
        var last = reason == Reason.Schedule && status.Next > invoked ? status.Next : Schedule.InZone(invoked);
        var next = new ScheduleStatusRecord(last, Schedule.GetNextOccurrence(last), last);
        if (monitor is not null)
        {
            await monitor.UpdateStatusAsync(TimerName, next);
        }
        cancellationToken.ThrowIfCancellationRequested();
        return next;
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer {Function}: schedule {Schedule} in time zone {TimeZone}; monitored: {UseMonitor}.")]
    private partial void LogSchedule(string function, string schedule, string timeZone, bool useMonitor);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Timer {Function}: another host with id {HostId} holds its lock; trying again later.")]
    private partial void LogNotHolder(string function, string hostId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer {Function}: taking its lock failed; trying again later.")]
    private partial void LogLockFailed(Exception exception, string function);

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer {Function} stopped; it starts again when it next gets its lock.")]
    private partial void LogRunFailed(Exception exception, string function);

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer {Function} is past due (missed the occurrence at {Missed}); running it now.")]
    private partial void LogPastDue(string function, DateTimeOffset missed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer function {Function} failed; it runs again at its next occurrence.")]
    private partial void LogFailed(Exception exception, string function);
}
