using System.Text;
using Jobs.Functions.Model;
using Jobs.Functions.Webhooks;

namespace Jobs.Functions.Storage;

/// <summary>
/// Puts a job's ending on <c>job-events</c> as the same CloudEvent a webhook receives (<see cref="JobCloudEvents"/>).
/// At least once: a retried or re-settled ending publishes again with the same <c>id</c>, so consumers de-duplicate by it.
/// </summary>
public sealed class JobEventPublisher(StorageClients clients, JobCloudEvents cloudEvents)
{
    public async Task PublishAsync(Job job, JobStamp stamp, CancellationToken cancellationToken)
    {
        var eventName = WebhookEvents.Of(null, job.Status)
            ?? throw new InvalidOperationException($"Job {job.Id} is {job.Status.ToWire()}: only endings go to job-events.");
        var body = cloudEvents.Encode(job, stamp.Seq, stamp.ChangedAt, eventName);
        await clients.EventsQueue.SendMessageAsync(Encoding.UTF8.GetString(body.Span), cancellationToken);
    }
}
