using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary>
/// The native Durable Functions management URLs of an instance. They carry the system key, which opens every
/// instance of the task hub, so only admins are given them; they are never logged.
/// </summary>
public static class NativeManagementLinks
{
    /// <summary>
    /// The links of <paramref name="instanceId"/>, from the worker extension's <c>CreateHttpManagementPayload</c> (its base
    /// is the Durable extension's webhook URL and its query string the task hub, connection and system key, both handed
    /// to the <c>[DurableClient]</c> binding), moved onto <paramref name="requestBaseUrl"/> (<see cref="PublicUrls.BaseUrl"/>
    /// of the request): the extension builds the webhook URL from <c>WEBSITE_HOSTNAME</c>, which knows nothing of a
    /// custom domain or a reverse proxy, while every URL the API hands out starts with the app's public address.
    /// </summary>
    public static JobLinks For(DurableTaskClient durable, string requestBaseUrl, string instanceId)
    {
        var payload = durable.CreateHttpManagementPayload(instanceId);
        return new JobLinks(instanceId, Rebase(payload.StatusQueryGetUri, requestBaseUrl), Rebase(payload.SendEventPostUri, requestBaseUrl),
            Rebase(payload.TerminatePostUri, requestBaseUrl), Rebase(payload.PurgeHistoryDeleteUri, requestBaseUrl));
    }

    // The URL's path and query under another origin. Not through Uri: the templates ({eventName}, {text}) stay as written.
    private static string Rebase(string? url, string baseUrl)
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        var authority = url.IndexOf("://", StringComparison.Ordinal) is var scheme and >= 0 ? scheme + 3 : 0;
        var path = url.IndexOf('/', authority);
        return path < 0 ? baseUrl : baseUrl.TrimEnd('/') + url[path..];
    }
}
