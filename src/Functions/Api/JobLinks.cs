using Microsoft.AspNetCore.Http;

namespace Jobs.Functions.Api;

/// <summary>
/// Durable-Functions-shaped management URLs for one job. They point at the per-job endpoints of this API
/// (<see cref="JobInstanceFunctions"/>), which apply the caller's permissions, so they are safe to hand to anyone.
/// </summary>
public sealed record JobLinks(string Id, string StatusQueryGetUri, string SendEventPostUri, string TerminatePostUri, string PurgeHistoryDeleteUri)
{
    public static JobLinks For(HttpRequest request, string id)
    {
        var instance = $"{BaseUrl(request)}/api/jobs/{id}/instance";
        return new JobLinks(id, instance, instance + "/raiseEvent/{eventName}", instance + "/terminate?reason={text}", instance);
    }

    /// <summary>Scheme, host and path base of the request, honouring X-Forwarded-Proto/Host set by a front end.</summary>
    public static string BaseUrl(HttpRequest request)
    {
        var scheme = request.Headers["X-Forwarded-Proto"].FirstOrDefault() ?? request.Scheme;
        var host = request.Headers["X-Forwarded-Host"].FirstOrDefault() ?? request.Host.Value;
        return $"{scheme}://{host}{request.PathBase}";
    }
}
