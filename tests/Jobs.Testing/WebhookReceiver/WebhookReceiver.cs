using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Jobs.Testing;

/// <summary>
/// The Node receiver of <c>receiver.js</c> (beside this file), built on the independent <c>standardwebhooks</c> npm
/// package: a process listening on a free loopback port that verifies every delivery it gets. Tests set a secret and a
/// plan of answers per hook name, point a subscription at <see cref="UrlOf"/>, and read what arrived.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly Process _node;
    private readonly HttpClient _control;

    /// <summary>One request the receiver got, and whether <c>standardwebhooks</c> verified it.</summary>
    public sealed record Delivery(string Name, string? Id, string? Timestamp, string? Signature, string? ContentType, bool Verified, string? Error, string Body, int Answered);

    private WebhookReceiver(Process node, int port)
    {
        _node = node;
        Port = port;
        _control = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public string UrlOf(string name) => $"http://127.0.0.1:{Port}/hook/{name}";

    public static async Task<WebhookReceiver> StartAsync()
    {
        var script = Path.Combine(RepoPaths.Root, "tests", "Jobs.Testing", "WebhookReceiver", "receiver.js");
        var start = new ProcessStartInfo("node", [script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var first = await node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (first is null)
        {
            throw new InvalidOperationException("The webhook receiver exited: " + await node.StandardError.ReadToEndAsync());
        }
        return new WebhookReceiver(node, (int)JsonNode.Parse(first)!["port"]!);
    }

    /// <summary>Sets the secret of hook <paramref name="name"/> and the status codes it answers first (then 200).</summary>
    public async Task ConfigureAsync(string name, string secret, params int[] plan)
    {
        using var response = await _control.PutAsJsonAsync($"/control/{name}", new { secret, plan });
        response.EnsureSuccessStatusCode();
    }

    public async Task<IReadOnlyList<Delivery>> ReceivedAsync(string name)
    {
        var all = await _control.GetFromJsonAsync<List<Delivery>>("/control/received", new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        return [.. all!.Where(d => d.Name == name)];
    }

    /// <summary>Asks the receiver to verify a request it is shown (nothing is recorded): (verified, error).</summary>
    public async Task<(bool Verified, string? Error)> VerifyAsync(string name, string body, IReadOnlyDictionary<string, string> headers)
    {
        using var response = await _control.PostAsJsonAsync($"/control/verify/{name}", new { body, headers });
        response.EnsureSuccessStatusCode();
        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return ((bool)result["verified"]!, (string?)result["error"]);
    }

    public async ValueTask DisposeAsync()
    {
        _control.Dispose();
        try
        {
            _node.StandardInput.Close();
            await _node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            _node.Kill();
        }
        _node.Dispose();
    }
}
