namespace Jobs.Functions.Api;

/// <summary>
/// Implemented by a <c>DurableTaskClient</c> that knows where the native Durable HTTP API is served and which
/// query string (task hub, connection, system key) opens it. The local runner's client does; under the
/// Functions host the extension's own client supplies the same through <c>CreateHttpManagementPayload</c>.
/// </summary>
public interface IDurableHttpEndpoint
{
    /// <summary>e.g. <c>http://localhost:7071/runtime/webhooks/durabletask</c>.</summary>
    string HttpBaseUrl { get; }

    /// <summary>e.g. <c>taskHub=JobsHub&amp;connection=Storage&amp;code=…</c>.</summary>
    string QueryString { get; }
}
