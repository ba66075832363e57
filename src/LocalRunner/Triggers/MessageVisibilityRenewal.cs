using Azure;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// Keeps a message invisible while its function runs, as the extension's <c>UpdateQueueMessageVisibilityCommand</c>
/// does: every half lease the visibility is set to a full lease again; once the message is lost
/// (<see cref="QueueOwnership.IsLost"/>) renewing stops. Any other failure the extension rethrows to the host's
/// exception handler, which restarts the host: the runner hands it to its host-error callback (a restart) and stops
/// renewing; with restarts off it logs it and tries again sooner (half the interval, down to
/// <c>min(1 minute, half lease)</c>) and keeps serving (docs/host-fidelity.md, Triggers).
/// Stopping cancels only the wait, never an update in flight, so the pop receipt it returns is not lost.
/// </summary>
internal sealed partial class MessageVisibilityRenewal : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private readonly CancellationTokenRegistration _abandoned;

    private MessageVisibilityRenewal(QueueClient queue, LeasedMessage message, TimeSpan lease, TimeProvider time, ILogger logger,
        Func<string, Exception, bool> hostError, CancellationToken abandoned)
    {
        _abandoned = abandoned.Register(_stop.Cancel);
        _loop = RenewAsync(queue, message, lease, time, logger, hostError, _stop.Token);
    }

    /// <summary>
    /// Starts renewing; <paramref name="hostError"/> gets a failed renewal and answers whether the host restarts.
    /// Renewing also stops when <paramref name="abandoned"/> is cancelled (the listener's stop deadline passed, or the
    /// host restarted): a listener that is gone renews nothing, so the message comes back when its lease ends even if
    /// its function still runs.
    /// </summary>
    public static MessageVisibilityRenewal Start(QueueClient queue, LeasedMessage message, TimeSpan lease, TimeProvider time, ILogger logger,
        Func<string, Exception, bool> hostError, CancellationToken abandoned) =>
        new(queue, message, lease, time, logger, hostError, abandoned);

    public async ValueTask DisposeAsync()
    {
        await _abandoned.DisposeAsync();
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private static async Task RenewAsync(QueueClient queue, LeasedMessage message, TimeSpan lease, TimeProvider time, ILogger logger, Func<string, Exception, bool> hostError, CancellationToken stop)
    {
        var normal = lease / 2;
        var minimum = normal < TimeSpan.FromMinutes(1) ? normal : TimeSpan.FromMinutes(1);
        var interval = normal;
        while (true)
        {
            try
            {
                await Task.Delay(interval, time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                var receipt = await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: lease, cancellationToken: CancellationToken.None);
                message.PopReceipt = receipt.Value.PopReceipt;
                interval = normal;
            }
            catch (RequestFailedException ex) when (QueueOwnership.IsLost(ex))
            {
                LogLost(logger, message.MessageId, ex.Status, ex.ErrorCode);
                return;
            }
            catch (Exception ex)
            {
                LogRenewalFailed(logger, ex, message.MessageId);
                if (hostError($"renewing the visibility of queue message {message.MessageId} failed", ex))
                {
                    return;
                }
                interval = interval / 2 > minimum ? interval / 2 : minimum;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped renewing the visibility of message {MessageId}: it is no longer ours ({Status} {ErrorCode}).")]
    private static partial void LogLost(ILogger logger, string messageId, int status, string? errorCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the visibility of message {MessageId} failed (a host error: the host restarts, or with restarts off the renewal is retried sooner).")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception, string messageId);
}
