using System.Text.Json.Serialization;

namespace Jobs.Functions.Health;

/// <summary>
/// The body of <c>GET /api/health</c>: <see cref="Status"/> is <c>healthy</c> when every check is, else <c>unhealthy</c>;
/// <see cref="Checks"/> holds one word per dependency (<c>healthy</c>, <c>unhealthy</c>, or <c>unknown</c> for the layout
/// when its table could not be read). Deliberately nothing more: no endpoints, names or exception text (the reasons go to
/// the log), since load balancers and probes call it anonymously.
/// </summary>
public sealed record HealthReport(string Status, IReadOnlyDictionary<string, string> Checks, DateTimeOffset CheckedAt)
{
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";
    public const string Unknown = "unknown";

    [JsonIgnore]
    public bool IsHealthy => Status == Healthy;
}
