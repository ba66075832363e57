namespace Jobs.Functions.Api;

/// <summary>
/// Durable-Functions-shaped management URLs for one job. They point at the per-job endpoints of this API
/// (<see cref="JobInstanceFunctions"/>), which apply the caller's permissions, so they are safe to hand to anyone.
/// </summary>
public sealed record JobLinks(string Id, string StatusQueryGetUri, string SendEventPostUri, string TerminatePostUri, string PurgeHistoryDeleteUri)
{
    /// <summary>The links of job <paramref name="id"/> under a request's public base URL (<see cref="PublicUrls.BaseUrl"/>).</summary>
    public static JobLinks For(string baseUrl, string id)
    {
        var instance = $"{baseUrl}/api/jobs/{id}/instance";
        return new JobLinks(id, instance, instance + "/raiseEvent/{eventName}", instance + "/terminate?reason={text}", instance);
    }
}
