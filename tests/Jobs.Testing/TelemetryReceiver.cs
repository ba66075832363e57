using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;

namespace Jobs.Testing;

/// <summary>
/// A local stand-in for a telemetry backend: an HTTP listener on a free loopback port that keeps every request's path and
/// body (gzip undone) and answers 200 — an OTLP/HTTP collector or Application Insights' ingestion endpoint, as the
/// exporters see them. <paramref name="answer"/> gives the JSON body of the answer from the request's path and body.
/// </summary>
public sealed class TelemetryReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<Request> _received = new();
    private readonly Func<string, byte[], string?> _answer;
    private readonly Task _loop;

    public sealed record Request(string Path, string? ContentType, byte[] Body)
    {
        public string Text => Encoding.UTF8.GetString(Body);
    }

    public TelemetryReceiver(Func<string, byte[], string?>? answer = null)
    {
        _answer = answer ?? ((_, _) => null);
        Port = TestStorage.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Address => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<Request> Received => [.. _received];

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                using var body = new MemoryStream();
                var input = context.Request.Headers["Content-Encoding"] == "gzip"
                    ? new GZipStream(context.Request.InputStream, CompressionMode.Decompress)
                    : context.Request.InputStream;
                await input.CopyToAsync(body);
                var request = new Request(context.Request.Url!.AbsolutePath, context.Request.ContentType, body.ToArray());
                _received.Enqueue(request);
                context.Response.StatusCode = 200;
                if (_answer(request.Path, request.Body) is { } json)
                {
                    context.Response.ContentType = "application/json";
                    var bytes = Encoding.UTF8.GetBytes(json);
                    await context.Response.OutputStream.WriteAsync(bytes);
                }
                context.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or InvalidDataException)
            {
                context.Response.Abort();
            }
        }
    }

    public void Dispose()
    {
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
