using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary>
/// The native Durable Functions management URLs of an instance. They carry the system key, which opens every
/// instance of the task hub, so only admins are given them; they are never logged.
/// </summary>
public static class NativeManagementLinks
{
    /// <summary>The links of <paramref name="instanceId"/>; <paramref name="requestBaseUrl"/> is <see cref="PublicUrls.BaseUrl"/> of the request.</summary>
    public static JobLinks For(DurableTaskClient durable, string requestBaseUrl, string instanceId)
    {
        if (durable is IDurableHttpEndpoint endpoint)
        {
            var baseUrl = endpoint.HttpBaseUrl.StartsWith('/') ? requestBaseUrl + endpoint.HttpBaseUrl : endpoint.HttpBaseUrl;
            var instance = $"{baseUrl}/instances/{Uri.EscapeDataString(instanceId)}";
            var query = endpoint.QueryString;
            return new JobLinks(instanceId, $"{instance}?{query}", $"{instance}/raiseEvent/{{eventName}}?{query}",
                $"{instance}/terminate?reason={{text}}&{query}", $"{instance}?{query}");
        }
        // Under the Functions host the extension's client knows the base URL and the key.
        var payload = durable.CreateHttpManagementPayload(instanceId);
        return new JobLinks(instanceId, payload.StatusQueryGetUri ?? "", payload.SendEventPostUri ?? "", payload.TerminatePostUri ?? "", payload.PurgeHistoryDeleteUri ?? "");
    }
}
