using System.Net;
using System.Text;

namespace Jobs.Testing;

/// <summary>One Server-Sent Event as received.</summary>
public sealed record SseEvent(string? Id, string Event, string Data);

/// <summary>What one connection of an event stream delivered.</summary>
public sealed record SseConnection(HttpStatusCode Status, IReadOnlyList<SseEvent> Events, IReadOnlyList<string> Comments, int? Retry, string? ContentType);

/// <summary>
/// A minimal event-stream reader that behaves as the browser's <c>EventSource</c> does: parses <c>id</c>/<c>event</c>/
/// <c>data</c>/<c>retry</c> and comments (per the HTML standard's parsing rules), and reconnects with
/// <c>Last-Event-ID</c> when a stream closes, until an <c>end</c> event or a 204.
/// </summary>
public static class SseClient
{
    /// <summary>
    /// Reads one connection to its close (or until <paramref name="stopAfter"/> events, then drops it).
    /// <paramref name="answered"/> completes once the response's headers are in (the server has taken or refused the stream).
    /// </summary>
    public static async Task<SseConnection> ReadOnceAsync(HttpClient client, string url, string? lastEventId = null, int? stopAfter = null, TimeSpan? timeout = null,
        TaskCompletionSource? answered = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        answered?.TrySetResult();
        var events = new List<SseEvent>();
        var comments = new List<string>();
        int? retry = null;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new SseConnection(response.StatusCode, events, comments, retry, response.Content.Headers.ContentType?.MediaType);
        }
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token), Encoding.UTF8);
        string? id = null;
        string type = "message";
        var data = new StringBuilder();
        var hasData = false;
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (hasData)
                {
                    events.Add(new SseEvent(id, type, data.ToString()));
                    if (stopAfter is { } max && events.Count >= max)
                    {
                        break;
                    }
                }
                type = "message";
                data.Clear();
                hasData = false;
                continue;
            }
            if (line.StartsWith(':'))
            {
                comments.Add(line[1..].Trim());
                continue;
            }
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "event":
                    type = value;
                    break;
                case "data":
                    if (hasData)
                    {
                        data.Append('\n');
                    }
                    data.Append(value);
                    hasData = true;
                    break;
                case "retry":
                    retry = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
            }
        }
        return new SseConnection(response.StatusCode, events, comments, retry, response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Reads, reconnecting after each close with the last id seen, until <c>end</c> or a 204; returns every connection.</summary>
    public static async Task<List<SseConnection>> ReadToEndAsync(HttpClient client, string url, string? lastEventId = null, int maxConnections = 50)
    {
        var connections = new List<SseConnection>();
        for (var i = 0; i < maxConnections; i++)
        {
            var connection = await ReadOnceAsync(client, url, lastEventId);
            connections.Add(connection);
            if (connection.Status != HttpStatusCode.OK || connection.Events.Any(e => e.Event == "end"))
            {
                return connections;
            }
            lastEventId = connection.Events.LastOrDefault(e => e.Id is not null)?.Id ?? lastEventId;
        }
        throw new InvalidOperationException($"The stream did not end within {maxConnections} connections.");
    }
}
