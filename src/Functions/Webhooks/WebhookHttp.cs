using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Webhooks;

/// <summary>Thrown by the connect callback when every address of a webhook's host is refused.</summary>
public sealed class WebhookAddressRefusedException(string message) : Exception(message);

/// <summary>What one attempt got: the status code (null: no response), at most 1 KB of the body, or the error, and how long it took.</summary>
public sealed record WebhookAttemptResult(int? StatusCode, string? Response, string? Error, TimeSpan Latency)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>
/// The one HTTP client that sends webhooks. Its connect callback resolves the host itself and connects only to an
/// address <see cref="WebhookAddressGuard.Refusal"/> allows, so the check is on the address actually connected to;
/// redirects are not followed (a 3xx is a failed attempt); an attempt has <see cref="WebhookOptions.TimeoutSeconds"/>;
/// at most <see cref="MaxResponseBytes"/> of a response are read and kept.
/// </summary>
public sealed class WebhookHttp : IDisposable
{
    public const int MaxResponseBytes = 1024;

    private readonly HttpClient _client;
    private readonly TimeSpan _timeout;

    public WebhookHttp(IOptions<WebhookOptions> options)
    {
        var allowLoopback = options.Value.AllowLoopbackHttp;
        _timeout = TimeSpan.FromSeconds(options.Value.TimeoutSeconds);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false, // a proxy would connect for us, past the address check
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = _timeout,
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allowLoopback, cancellationToken),
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Connects to the first address of <paramref name="endpoint"/> the guard allows; refuses when none is.</summary>
    internal static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowLoopback, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        var refusals = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var address in addresses)
        {
            if (WebhookAddressGuard.Refusal(address, allowLoopback) is { } refused)
            {
                refusals.Add(refused);
                continue;
            }
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new WebhookAddressRefusedException(refusals.Count == 0
            ? $"{endpoint.Host} does not resolve"
            : $"refused to connect to {endpoint.Host}: it resolves to {string.Join(", ", refusals)}");
    }

    /// <summary>POSTs <paramref name="body"/> with <paramref name="headers"/>; never throws for the receiver's faults.</summary>
    public async Task<WebhookAttemptResult> PostAsync(Uri url, ReadOnlyMemory<byte> body, string contentType,
        IEnumerable<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            foreach (var (name, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var (kept, bodyError) = await ReadCappedAsync(response, timeout.Token);
            return new WebhookAttemptResult((int)response.StatusCode, kept, bodyError, watch.Elapsed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttemptResult(null, null, $"no response within {_timeout.TotalSeconds:0} s", watch.Elapsed);
        }
        catch (HttpRequestException ex)
        {
            var refused = FindRefusal(ex);
            return new WebhookAttemptResult(null, null, refused?.Message ?? ex.Message, watch.Elapsed);
        }
    }

    private static WebhookAddressRefusedException? FindRefusal(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is WebhookAddressRefusedException refused)
            {
                return refused;
            }
        }
        return null;
    }

    /// <summary>
    /// At most <see cref="MaxResponseBytes"/> of the body, and why it ended early: the answer is its status code, so a
    /// body cut short (the receiver closed, a bad chunk) is kept as read and said, never thrown past the try.
    /// </summary>
    private static async Task<(string Kept, string? Error)> ReadCappedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxResponseBytes];
        var filled = 0;
        string? error = null;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            int read;
            while (filled < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            error = "the response body ended early: " + ex.Message;
        }
        return (Encoding.UTF8.GetString(buffer, 0, filled), error);
    }

    public void Dispose() => _client.Dispose();
}
