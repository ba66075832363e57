using Azure.Storage.Queues.Models;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// A queue message the listener holds while its function runs. Every visibility update returns a new pop receipt,
/// and the delete or release that follows must use the latest one, as the extension's <c>message.Update(receipt)</c>
/// does; the renewal writes it, the completion reads it after the renewal has stopped.
/// </summary>
internal sealed class LeasedMessage(QueueMessage message)
{
    /// <summary>The message as it was received; its binding data comes from this (<see cref="QueueBindingData"/>).</summary>
    public QueueMessage Received { get; } = message;

    public string MessageId { get; } = message.MessageId;

    public string PopReceipt { get; set; } = message.PopReceipt;

    public long DequeueCount { get; } = message.DequeueCount;

    public BinaryData Body { get; } = message.Body;
}
