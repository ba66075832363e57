using Jobs.Functions.Handlers;

namespace Jobs.Functions.Storage;

/// <summary>
/// The shape rules of the list's filters, shared by <c>GET /api/jobs</c> and a bulk action's <c>filter</c>, so the two
/// accept and refuse the same values: a correlation id of 1–256 characters without control characters, an entity named
/// by type and id together, a creation window that does not end before it starts, and up to 10 tags as a job's are
/// (<see cref="Model.JobTags"/>; not with an entity: a listing reads one partition, a tag's or an entity's). Field names are the filter's own
/// (the caller prefixes them, e.g. <c>filter.</c>).
/// </summary>
public static class JobFilterRules
{
    public const int MaxCorrelationIdLength = 256;

    /// <summary>Every problem of these filter values, in field order (none when they are well formed).</summary>
    public static IEnumerable<InputError> Check(string? correlationId, string? entityType, string? entityId, DateTimeOffset? createdFrom, DateTimeOffset? createdTo,
        IReadOnlyList<string?>? tags = null)
    {
        if (correlationId is { Length: 0 or > MaxCorrelationIdLength } || correlationId?.Any(char.IsControl) == true)
        {
            yield return new InputError("correlationId", $"must be 1-{MaxCorrelationIdLength} characters without control characters");
        }
        if ((entityType is null) != (entityId is null))
        {
            yield return new InputError(entityType is null ? "entityType" : "entityId", "entityType and entityId go together");
        }
        if (createdFrom > createdTo)
        {
            yield return new InputError("createdFrom", "must not be after createdTo");
        }
        foreach (var error in Model.JobTags.Check(tags, "tag"))
        {
            yield return error;
        }
        if (tags is { Count: > 0 } && entityType is not null)
        {
            yield return new InputError("tag", "cannot be combined with entityType and entityId");
        }
    }
}
