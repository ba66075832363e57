namespace Jobs.Functions.Artifacts;

/// <summary>
/// One stored artifact of a job, as results and listings show it: its name, size, content type, and the route that
/// downloads it (<c>GET /api/jobs/{id}/artifacts/{name}</c>, relative to the service).
/// </summary>
public sealed record ArtifactInfo(string Name, long Bytes, string ContentType, string Href, DateTimeOffset? LastModified)
{
    public static string HrefOf(string jobId, string name) => $"/api/jobs/{Uri.EscapeDataString(jobId)}/artifacts/{name}";
}
