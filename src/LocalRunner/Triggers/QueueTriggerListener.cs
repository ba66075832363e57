using System.Text;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// Serves one <c>[QueueTrigger]</c> function with the Functions host's semantics: batches of
/// <c>batchSize</c>, a failed message becomes visible again after <c>visibilityTimeout</c>, and once it has been
/// dequeued <c>maxDequeueCount</c> times it moves to <c>{queue}-poison</c>. A message that is not valid base64 is
/// poisoned at once, as the host does. Polling backs off exponentially to <c>maxPollingInterval</c> when idle.
/// </summary>
public sealed partial class QueueTriggerListener(
    FunctionDescriptor function, QueueServiceClient queues, HostSettings host, DurableTaskClient durable,
    IServiceProvider services, ILogger<QueueTriggerListener> logger) : BackgroundService
{
    private static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queueName = function.Queue!.QueueName;
        var queue = queues.GetQueueClient(queueName);
        var poison = queues.GetQueueClient(queueName + "-poison");
        await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
        await poison.CreateIfNotExistsAsync(cancellationToken: stoppingToken);

        var delay = MinPollingInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            QueueMessage[] batch;
            try
            {
                batch = (await queue.ReceiveMessagesAsync(host.QueueBatchSize, TimeSpan.FromMinutes(5), stoppingToken)).Value;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPollFailed(ex, queueName);
                batch = [];
            }
            if (batch.Length == 0)
            {
                await Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, host.QueueMaxPollingInterval.Ticks));
                continue;
            }
            delay = MinPollingInterval;
            await Task.WhenAll(batch.Select(message => ProcessAsync(queue, poison, message, stoppingToken)));
        }
    }

    private async Task ProcessAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        using var scope = logger.BeginScope("QueueMessageId:{QueueMessageId}", message.MessageId);
        string text;
        try
        {
            text = host.QueueMessagesBase64 ? Encoding.UTF8.GetString(Convert.FromBase64String(message.Body.ToString())) : message.Body.ToString();
        }
        catch (FormatException)
        {
            LogPoisoned(function.Name, message.MessageId, message.DequeueCount, "the message is not valid base64");
            await MoveToPoisonAsync(queue, poison, message, stoppingToken);
            return;
        }
        try
        {
            await FunctionInvoker.InvokeAsync(function, new InvocationContext(services, text, durable, stoppingToken));
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            if (message.DequeueCount >= host.QueueMaxDequeueCount)
            {
                LogPoisonedAfterFailure(ex, function.Name, message.MessageId, message.DequeueCount, ex.Message);
                await MoveToPoisonAsync(queue, poison, message, stoppingToken);
            }
            else
            {
                LogFailed(ex, function.Name, message.MessageId, message.DequeueCount);
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: host.QueueVisibilityTimeout, cancellationToken: stoppingToken);
            }
        }
    }

    private static async Task MoveToPoisonAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        // The poison queue gets the message exactly as it arrived, so it can be inspected and replayed.
        await poison.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling queue {Queue} failed; will retry.")]
    private partial void LogPollFailed(Exception exception, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Function} failed on message {MessageId} (dequeue count {DequeueCount}); it will be retried.")]
    private partial void LogFailed(Exception exception, string function, string messageId, long dequeueCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Function}: message {MessageId} moved to the poison queue after {DequeueCount} dequeues. Reason: {Reason}")]
    private partial void LogPoisonedAfterFailure(Exception exception, string function, string messageId, long dequeueCount, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Function}: message {MessageId} moved to the poison queue (dequeue count {DequeueCount}). Reason: {Reason}")]
    private partial void LogPoisoned(string function, string messageId, long dequeueCount, string reason);
}
