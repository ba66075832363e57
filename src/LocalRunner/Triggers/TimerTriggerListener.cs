using Jobs.LocalRunner.Functions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NCrontab;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// Fires one <c>[TimerTrigger]</c> function on its NCRONTAB schedule (six fields, seconds first, UTC), as the
/// host does; <c>%Setting%</c> schedules are read from configuration; <c>Jobs:Runner:Schedules:&lt;function&gt;</c> overrides
/// a schedule for tests. Runs are never overlapped.
/// </summary>
public sealed partial class TimerTriggerListener(
    FunctionDescriptor function, IConfiguration configuration, DurableTaskClient durable, TimeProvider time,
    IServiceProvider services, ILogger<TimerTriggerListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var attribute = function.Timer!;
        // Test-only: the runner may run a timer on another schedule (Jobs:Runner:Schedules:<function>), so maintenance
        // tests need not wait a minute. The Functions host has no such override; production uses the attribute's.
        var expression = configuration[$"Jobs:Runner:Schedules:{function.Name}"] ?? attribute.Schedule;
        if (expression.StartsWith('%') && expression.EndsWith('%'))
        {
            expression = configuration[expression.Trim('%')]
                ?? throw new InvalidOperationException($"Timer {function.Name}: setting {expression} is not set.");
        }
        var schedule = CrontabSchedule.Parse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = true });
        if (attribute.RunOnStartup)
        {
            await FireAsync(false, stoppingToken);
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var next = schedule.GetNextOccurrence(now);
            try
            {
                await Task.Delay(next - now, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await FireAsync(time.GetUtcNow().UtcDateTime - next > TimeSpan.FromSeconds(30), stoppingToken);
        }
    }

    private async Task FireAsync(bool pastDue, CancellationToken stoppingToken)
    {
        try
        {
            await FunctionInvoker.InvokeAsync(function, new InvocationContext(services, new TimerInfo { IsPastDue = pastDue }, durable, stoppingToken));
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogFailed(ex, function.Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer function {Function} failed; it runs again at its next occurrence.")]
    private partial void LogFailed(Exception exception, string function);
}
