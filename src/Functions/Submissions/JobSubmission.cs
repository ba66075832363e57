using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Jobs.Functions.Model;

namespace Jobs.Functions.Submissions;

/// <summary>
/// A request to create a job: the body of <c>POST /api/jobs</c>, and of a <c>job-submissions</c> message
/// (which also names its <see cref="Owner"/>, since a queue has no caller identity).
/// </summary>
public sealed record JobSubmission
{
    /// <summary>The job type (<c>GET /api/job-types</c>); <see cref="JobSubmissionService.Validate"/> refuses a submission without one.</summary>
    [Required]
    public string? Type { get; init; }
    public JsonElement? Input { get; init; }
    public string? CorrelationId { get; init; }
    public EntityRef? Entity { get; init; }

    /// <summary>Up to 10 tags, each <c>name</c> or <c>name:value</c> of at most 64 characters (<see cref="JobTags"/>).</summary>
    public IReadOnlyList<string?>? Tags { get; init; }
    public string? IdempotencyKey { get; init; }

    /// <summary>
    /// Start no earlier than this (UTC, at most <see cref="SubmissionRules.MaxScheduleAhead"/> ahead): the job stays
    /// <c>pending</c> until then and its deadline counts from then. A time already past starts it at once.
    /// </summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>0–9, higher first, among its type's queued jobs (null: the type's default).</summary>
    public int? Priority { get; init; }

    /// <summary>What the type's per-key concurrency limit counts this job against (a tenant, a customer); at most 128 characters.</summary>
    public string? ConcurrencyKey { get; init; }

    /// <summary>Store the job without running it; <c>POST /api/jobs/{id}/submit</c> starts it.</summary>
    public bool Draft { get; init; }

    /// <summary>Queue submissions only: the user the job belongs to.</summary>
    [QueueOnly]
    public string? Owner { get; init; }
}
