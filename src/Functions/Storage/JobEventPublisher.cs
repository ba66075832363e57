using System.Text.Json;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>The message put on <c>job-events</c> when a job reaches a terminal state.</summary>
public sealed record JobEvent(
    string JobId, string Type, JobStatus Status, string Owner, string? CorrelationId, EntityRef? Entity,
    JsonElement? Result, JobError? Error, DateTimeOffset? CompletedAt);

/// <summary>
/// Publishes terminal transitions. Delivery is at least once: a retried transition activity may publish twice,
/// so consumers de-duplicate by <c>jobId</c>.
/// </summary>
public sealed class JobEventPublisher(StorageClients clients)
{
    public async Task PublishAsync(Job job, CancellationToken cancellationToken)
    {
        var message = new JobEvent(job.Id, job.Type, job.Status, job.Owner, job.CorrelationId, job.Entity,
            job.Result, job.Error is null ? null : job.Error with { StackTrace = null }, job.CompletedAt);
        await clients.EventsQueue.SendMessageAsync(JsonSerializer.Serialize(message, JobJson.Options), cancellationToken);
    }
}
