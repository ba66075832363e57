using System.ComponentModel.DataAnnotations;

namespace Jobs.Functions.Api;

/// <summary>
/// Limits of <c>POST /api/jobs/{id}/instance/raiseEvent/{name}</c>, bound from <c>Jobs:RaisedEvents</c>. Every event
/// raised is kept in the orchestration's history until it is purged, so both the size and the number are capped.
/// </summary>
public sealed class RaisedEventOptions
{
    public const string Section = "Jobs:RaisedEvents";

    /// <summary>Largest event payload, in UTF-8 bytes of its JSON; a larger one is a 413.</summary>
    [Range(2, 60 * 1024)]
    public int MaxPayloadBytes { get; set; } = 16 * 1024;

    /// <summary>Events raised on one job and not yet consumed by its orchestration; one more is a 409.</summary>
    [Range(1, 1_000)]
    public int MaxPendingPerJob { get; set; } = 10;
}
