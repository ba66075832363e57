using System.Text.Json;

namespace Jobs.Functions.Api;

/// <summary>
/// The body of <c>POST /api/jobs/{id}/decisions/{name}</c>: <paramref name="Decision"/> <c>approve</c> or <c>reject</c>,
/// an optional <paramref name="Comment"/> (at most 1,000 characters) and <paramref name="Payload"/> (a JSON object of at
/// most 8 KiB) that the decided step receives.
/// </summary>
public sealed record DecisionBody(string? Decision = null, string? Comment = null, JsonElement? Payload = null);
