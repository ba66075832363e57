using Azure;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// Keeps a message invisible while its function runs, as the extension's <c>UpdateQueueMessageVisibilityCommand</c>
/// does: every half lease the visibility is set to a full lease again; once the message is lost
/// (<see cref="QueueOwnership.IsLost"/>) renewing stops. Any other failure the extension rethrows to the host's
/// exception handler, which restarts the host; the runner instead logs it and tries again sooner (half the interval,
/// down to <c>min(1 minute, half lease)</c>) and keeps serving (docs/host-fidelity.md, Triggers).
/// Stopping cancels only the wait, never an update in flight, so the pop receipt it returns is not lost.
/// </summary>
internal sealed partial class MessageVisibilityRenewal : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private MessageVisibilityRenewal(QueueClient queue, LeasedMessage message, TimeSpan lease, TimeProvider time, ILogger logger)
    {
        _loop = RenewAsync(queue, message, lease, time, logger, _stop.Token);
    }

    public static MessageVisibilityRenewal Start(QueueClient queue, LeasedMessage message, TimeSpan lease, TimeProvider time, ILogger logger) =>
        new(queue, message, lease, time, logger);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private static async Task RenewAsync(QueueClient queue, LeasedMessage message, TimeSpan lease, TimeProvider time, ILogger logger, CancellationToken stop)
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
                interval = interval / 2 > minimum ? interval / 2 : minimum;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped renewing the visibility of message {MessageId}: it is no longer ours ({Status} {ErrorCode}).")]
    private static partial void LogLost(ILogger logger, string messageId, int status, string? errorCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the visibility of message {MessageId} failed; retrying sooner.")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception, string messageId);
}
