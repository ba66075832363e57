using Azure;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// The storage failures that mean the listener no longer owns a message, which the WebJobs storage queues extension
/// ignores when it deletes, releases or renews one (its <c>RequestFailedExceptionExtensions</c>, used by
/// <c>QueueProcessor.DeleteMessageAsync</c> / <c>ReleaseMessageAsync</c> and <c>UpdateQueueMessageVisibilityCommand</c>):
/// another consumer took the message over (400 PopReceiptMismatch), the message or queue is gone (404 MessageNotFound /
/// QueueNotFound), or the queue is being deleted (409 QueueBeingDeleted).
/// </summary>
internal static class QueueOwnership
{
    public static bool IsLost(RequestFailedException exception) =>
        (exception.Status == 400 && exception.ErrorCode == "PopReceiptMismatch")
        || (exception.Status == 404 && exception.ErrorCode is "MessageNotFound" or "QueueNotFound")
        || (exception.Status == 409 && exception.ErrorCode == "QueueBeingDeleted");

    public static bool IsServerError(RequestFailedException exception) => exception.Status is >= 500 and < 600;
}
