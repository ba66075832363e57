using System.Text.Json;

namespace Jobs.Functions.Submissions;

/// <summary>The body of <c>PATCH /api/jobs/{id}</c>: what a draft may change before it is submitted.</summary>
/// <remarks>The type, owner and entity are fixed at creation (the entity decides which listings show the job).</remarks>
public sealed record DraftPatch
{
    public JsonElement? Input { get; init; }
    public string? CorrelationId { get; init; }
}
