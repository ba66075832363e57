using Azure.Storage.Queues.Models;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// The binding data the storage queues extension gives a queue-triggered invocation (<c>QueueTriggerBinding</c>'s
/// binding data contract in Azure/azure-sdk-for-net, Microsoft.Azure.WebJobs.Extensions.Storage.Queues): the same names,
/// value types and defaults, keys compared ignoring case. The isolated worker binds a parameter that has no binding
/// attribute from it by the parameter's name, ignoring case, so <c>string id</c> receives the message id.
/// </summary>
internal static class QueueBindingData
{
    /// <param name="message">The message as it was received (its first pop receipt, as the extension binds it).</param>
    /// <param name="text">The decoded text, which the extension offers as <c>QueueTrigger</c>.</param>
    /// <param name="now">Stands in for an unknown insertion time, as the extension's <c>DateTimeOffset.UtcNow</c> does.</param>
    public static IReadOnlyDictionary<string, object?> Create(QueueMessage message, string text, DateTimeOffset now) =>
        new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["QueueTrigger"] = text,
            ["DequeueCount"] = message.DequeueCount,
            ["ExpirationTime"] = message.ExpiresOn ?? DateTimeOffset.MaxValue,
            ["Id"] = message.MessageId,
            ["InsertionTime"] = message.InsertedOn ?? now,
            ["NextVisibleTime"] = message.NextVisibleOn ?? DateTimeOffset.MaxValue,
            ["PopReceipt"] = message.PopReceipt,
        };
}
