using System.Text;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Jobs.LocalRunner.Restarts;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// Serves one <c>[QueueTrigger]</c> function as the WebJobs storage queues extension does (its <c>QueueListener</c> and
/// <c>QueueProcessor</c>): messages are received <c>batchSize</c> at a time and leased for
/// <see cref="HostSettings.QueueMessageLease"/>, renewed at half of it while the function runs; the next batch is
/// fetched as soon as no more than <c>newBatchThreshold</c> messages are still running. A message whose dequeue count
/// is already past <c>maxDequeueCount</c> moves to <c>{queue}-poison</c> without running; a failed one becomes visible
/// again after <c>visibilityTimeout</c>, or moves to the poison queue on its last dequeue. A message that is not valid
/// base64 is poisoned at once. The function gets the extension's binding data (<see cref="QueueBindingData"/>: the
/// message id as <c>Id</c>, and so on). Losing a message (deleted or taken over meanwhile) is ignored as the extension ignores
/// it; any other storage failure settling or renewing a message is a host error, as the extension hands it to the host's
/// exception handler: it restarts the host (<see cref="HostRestarter"/>), or, with restarts off, is logged while the
/// listener keeps serving. As the extension's listener, it
/// creates no queue: it checks that the queue exists (again after any failed poll) and backs off while it does not, and
/// the poison queue is created when a message first goes there. Polling backs off exponentially with jitter to
/// <c>maxPollingInterval</c> when idle (<see cref="RandomizedExponentialBackoff"/>). Settling a message (delete, release,
/// poison) uses a shutdown token that is cancelled when the host's stop deadline passes (<see cref="StopAsync"/>), as the
/// extension's <c>_shutdownCancellationTokenSource</c>: a settle still running then is abandoned and the message comes
/// back when its lease ends. <c>%Setting%</c> in the queue name is read from app settings.
/// </summary>
public sealed partial class QueueTriggerListener(
    FunctionDescriptor function, QueueServiceClient queues, HostSettings host, IConfiguration configuration, DurableTaskClient durable,
    TimeProvider time, IServiceProvider services, ILogger<QueueTriggerListener> logger, HostRestarter? restarter = null) : BackgroundService
{
    // QueuePollingIntervals.Minimum in the extension.
    private static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(100);

    private readonly CancellationTokenSource _shutdown = new();

    /// <summary>The queue this listener serves, with <c>%Setting%</c> resolved.</summary>
    public string QueueName { get; } = AppSettingExpressions.Resolve(configuration, function.Queue!.QueueName, function.Name);

    /// <summary>
    /// The extension's default threshold is batchSize / 2 times the processor count (1 on the Consumption plan,
    /// <c>WEBSITE_SKU=Dynamic</c>).
    /// </summary>
    internal int NewBatchThreshold => host.QueueNewBatchThreshold
        ?? host.QueueBatchSize / 2 * (string.Equals(configuration["WEBSITE_SKU"], "Dynamic", StringComparison.OrdinalIgnoreCase) ? 1 : Environment.ProcessorCount);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = queues.GetQueueClient(QueueName);
        var poison = queues.GetQueueClient(QueueName + "-poison");
        var backoff = new RandomizedExponentialBackoff(MinPollingInterval, host.QueueMaxPollingInterval, Random.Shared);
        bool? queueExists = null;
        var foundSinceLastDelay = false;

        var processing = new List<Task>();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                QueueMessage[] batch = [];
                try
                {
                    // As QueueListener.ExecuteAsync: the existence check avoids polling a missing queue, and is made again
                    // after any failed poll, since the queue can be deleted underneath the listener.
                    queueExists ??= (await queue.ExistsAsync(stoppingToken)).Value;
                    if (queueExists == true)
                    {
                        batch = (await queue.ReceiveMessagesAsync(host.QueueBatchSize, host.QueueMessageLease, stoppingToken)).Value;
                    }
                    else
                    {
                        queueExists = null;
                        LogQueueMissing(QueueName);
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    queueExists = null;
                    LogPollFailed(ex, QueueName);
                }
                if (batch.Length == 0)
                {
                    await Delay(backoff.Next(foundSinceLastDelay), stoppingToken);
                    foundSinceLastDelay = false;
                    continue;
                }
                foundSinceLastDelay = true;
                processing.AddRange(batch.Select(message => ProcessAsync(queue, poison, new LeasedMessage(message), stoppingToken)));
                // Fetch again once no more than newBatchThreshold messages are still running.
                processing.RemoveAll(task => task.IsCompleted);
                while (processing.Count > NewBatchThreshold)
                {
                    processing.Remove(await Task.WhenAny(processing));
                }
            }
        }
        finally
        {
            // Functions see the stopping token; let the ones still running finish and settle their messages.
            await Task.WhenAll(processing);
        }
    }

    /// <summary>
    /// Stops as the extension's QueueListener.StopAsync: running functions see the stopping token at once, and when
    /// <paramref name="cancellationToken"/> (the host's stop deadline) is cancelled, so is every settle still in flight.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        using (cancellationToken.Register(_shutdown.Cancel))
        {
            await base.StopAsync(cancellationToken);
        }
    }

    public override void Dispose()
    {
        _shutdown.Dispose();
        base.Dispose();
    }

    /// <summary>Runs the function for one message and settles it. Never throws: a failure here must not stop the listener.</summary>
    private async Task ProcessAsync(QueueClient queue, QueueClient poison, LeasedMessage message, CancellationToken stoppingToken)
    {
        using var scope = logger.BeginScope("QueueMessageId:{QueueMessageId}", message.MessageId);
        try
        {
            if (message.DequeueCount > host.QueueMaxDequeueCount)
            {
                LogPoisoned(function.Name, message.MessageId, message.DequeueCount, "its dequeue count is past maxDequeueCount");
                await MoveToPoisonAsync(queue, poison, message, _shutdown.Token);
                return;
            }
            if (!TryDecode(message.Body, out var text))
            {
                LogPoisoned(function.Name, message.MessageId, message.DequeueCount, "the message is not valid base64");
                await MoveToPoisonAsync(queue, poison, message, _shutdown.Token);
                return;
            }
            Exception? failure = null;
            await using (MessageVisibilityRenewal.Start(queue, message, host.QueueMessageLease, time, logger, HostError, _shutdown.Token))
            {
                try
                {
                    var bindingData = QueueBindingData.Create(message.Received, text, time.GetUtcNow());
                    await FunctionInvoker.InvokeAsync(function, new InvocationContext(services, text, durable, stoppingToken, BindingData: bindingData));
                }
                catch (Exception ex)
                {
                    // As in the extension, a function cancelled by shutdown is a failed run like any other.
                    failure = ex;
                }
            }
            // Settled with the shutdown token (QueueListener.ProcessMessageAsync passes _shutdownCancellationTokenSource.Token
            // to CompleteProcessingMessageAsync): cancelled at the host's stop deadline, the message comes back after its lease.
            var settling = _shutdown.Token;
            if (failure is null)
            {
                await IgnoringLostAsync(() => queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, settling), message, "delete");
            }
            else if (message.DequeueCount >= host.QueueMaxDequeueCount)
            {
                LogPoisonedAfterFailure(failure, function.Name, message.MessageId, message.DequeueCount, failure.Message);
                await MoveToPoisonAsync(queue, poison, message, settling);
            }
            else
            {
                LogFailed(failure, function.Name, message.MessageId, message.DequeueCount);
                await IgnoringLostAsync(
                    () => queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: host.QueueVisibilityTimeout, cancellationToken: settling),
                    message, "release");
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            LogSettleAbandoned(function.Name, message.MessageId);
        }
        catch (Exception ex)
        {
            // The message stays as it is and comes back when its lease ends; its dequeue count decides what happens then.
            // The extension lets the failure out of QueueListener.ProcessMessageAsync to the host's exception handler.
            LogSettleFailed(ex, function.Name, message.MessageId);
            HostError($"{function.Name}: settling queue message {message.MessageId} failed", ex);
        }
    }

    /// <summary>Hands a host error to the restarter; false when restarts are off (the caller then carries on).</summary>
    private bool HostError(string reason, Exception exception) => restarter?.RequestRestart(reason, exception) ?? false;

    private bool TryDecode(BinaryData body, out string text)
    {
        if (!host.QueueMessagesBase64)
        {
            text = body.ToString();
            return true;
        }
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(body.ToString()));
            return true;
        }
        catch (FormatException)
        {
            text = "";
            return false;
        }
    }

    private async Task MoveToPoisonAsync(QueueClient queue, QueueClient poison, LeasedMessage message, CancellationToken settling)
    {
        // The poison queue gets the message exactly as it arrived, so it can be inspected and replayed; it is created
        // when first needed (and again if deleted meanwhile), as the extension's AddMessageAndCreateIfNotExistsAsync.
        try
        {
            await poison.SendMessageAsync(message.Body, cancellationToken: settling);
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode == "QueueNotFound")
        {
            await poison.CreateIfNotExistsAsync(cancellationToken: settling);
            await poison.SendMessageAsync(message.Body, cancellationToken: settling);
        }
        await IgnoringLostAsync(() => queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, settling), message, "delete");
    }

    private async Task IgnoringLostAsync(Func<Task> operation, LeasedMessage message, string what)
    {
        try
        {
            await operation();
        }
        catch (RequestFailedException ex) when (QueueOwnership.IsLost(ex))
        {
            LogLost(function.Name, what, message.MessageId, ex.Status, ex.ErrorCode);
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Queue {Queue} does not exist; backing off before checking again.")]
    private partial void LogQueueMissing(string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Function}: settling message {MessageId} was cancelled at the stop deadline; it is seen again when its lease ends.")]
    private partial void LogSettleAbandoned(string function, string messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling queue {Queue} failed; will retry.")]
    private partial void LogPollFailed(Exception exception, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Function} failed on message {MessageId} (dequeue count {DequeueCount}); it will be retried.")]
    private partial void LogFailed(Exception exception, string function, string messageId, long dequeueCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Function}: message {MessageId} moved to the poison queue after {DequeueCount} dequeues. Reason: {Reason}")]
    private partial void LogPoisonedAfterFailure(Exception exception, string function, string messageId, long dequeueCount, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Function}: message {MessageId} moved to the poison queue (dequeue count {DequeueCount}). Reason: {Reason}")]
    private partial void LogPoisoned(string function, string messageId, long dequeueCount, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Function}: could not {Operation} message {MessageId}, which is no longer ours ({Status} {ErrorCode}); ignored.")]
    private partial void LogLost(string function, string operation, string messageId, int status, string? errorCode);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Function}: settling message {MessageId} failed; it stays in the queue and is seen again when its lease ends.")]
    private partial void LogSettleFailed(Exception exception, string function, string messageId);
}
