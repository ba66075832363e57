using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Core;

namespace Jobs.Testing;

/// <summary>
/// A stand-in for App Service's managed identity endpoint (what <c>IDENTITY_ENDPOINT</c> and <c>IDENTITY_HEADER</c>
/// point a function app's process at): it answers the 2019-08-01 token request of Azure.Identity's
/// <c>ManagedIdentityCredential</c> with a JWT for the requested resource, issued as Entra ID would (issuer
/// sts.windows.net, one hour), unsigned — what Azurite's <c>--oauth basic</c> accepts. It records each request's
/// client id, so a test can tell which identity was asked for.
/// </summary>
public sealed class ManagedIdentityEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _secret = Guid.NewGuid().ToString("N");
    private readonly Task _serving;

    public ManagedIdentityEndpoint()
    {
        var port = TestStorage.FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/msi/token");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/msi/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }

    /// <summary>The client ids (<c>client_id</c>) of the token requests answered, in order; "" for the system-assigned identity.</summary>
    public ConcurrentQueue<string> ClientIds { get; } = new();

    /// <summary>The environment a process needs to use this endpoint as its managed identity (App Service's variables).</summary>
    public Dictionary<string, string> Environment => new()
    {
        ["IDENTITY_ENDPOINT"] = Endpoint.ToString(),
        ["IDENTITY_HEADER"] = _secret,
    };

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var response = context.Response;
            var query = context.Request.QueryString;
            if (context.Request.Headers["X-IDENTITY-HEADER"] != _secret || string.IsNullOrEmpty(query["resource"]))
            {
                response.StatusCode = 400;
                continue;
            }
            ClientIds.Enqueue(query["client_id"] ?? "");
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
            {
                ["access_token"] = Token(query["resource"]!, query["client_id"] ?? "system", now),
                ["expires_on"] = (now + 3600).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["resource"] = query["resource"]!,
                ["token_type"] = "Bearer",
                ["client_id"] = query["client_id"] ?? "",
            });
            response.ContentType = "application/json";
            await response.OutputStream.WriteAsync(body);
        }
    }

    /// <summary>A credential for the test process itself, issuing the same tokens for <paramref name="clientId"/>.</summary>
    public static TokenCredential CredentialFor(string clientId) => new StandInCredential(clientId);

    private sealed class StandInCredential(string clientId) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            var now = DateTimeOffset.UtcNow;
            var resource = requestContext.Scopes[0].Replace("/.default", "", StringComparison.Ordinal);
            return new AccessToken(Token(resource, clientId, now.ToUnixTimeSeconds()), now.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    private static string Token(string resource, string clientId, long now)
    {
        const string tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        static string Part(object value) => Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(value)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return Part(new { alg = "RS256", typ = "JWT" }) + "." + Part(new Dictionary<string, object>
        {
            ["aud"] = resource.TrimEnd('/'),
            ["iss"] = $"https://sts.windows.net/{tenant}/",
            ["iat"] = now - 60,
            ["nbf"] = now - 60,
            ["exp"] = now + 3600,
            ["appid"] = clientId,
            ["oid"] = Guid.NewGuid().ToString(),
            ["tid"] = tenant,
        }) + "." + Convert.ToBase64String(Encoding.UTF8.GetBytes("not-signed")).TrimEnd('=');
    }

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
