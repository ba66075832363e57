using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// Identity-based storage end to end, as a Flex Consumption app with shared-key access off runs it: the runner as a
/// child process whose only storage settings are AzureWebJobsStorage__blobServiceUri/__queueServiceUri/__tableServiceUri,
/// __credential=managedidentity and __clientId (no connection string in its settings, its environment or the test run),
/// against an Azurite that takes Entra tokens over HTTPS, with App Service's managed identity endpoint stood in for.
/// The app's storage and the host's (keys, timers) go through one connection's tokens, the durable engine's task hub
/// (host.json's storageProvider.connectionName) through its own connection's, each with its own identity.
/// </summary>
public sealed class IdentityConnectionTests : IDisposable
{
    private const string ClientId = "0b6d8e52-9f3a-4c71-8e0d-5a2f4c6b7d19";
    private const string HubClientId = "7c1e4f0a-2d5b-4a86-b3e9-91f0c2d4e6a8";
    private const string HubConnection = "DurableStorage";
    private readonly OAuthAzurite _storage = new();
    private readonly ManagedIdentityEndpoint _identity = new();

    [Fact]
    public async Task IdentityBasedStorage_OverOAuth_RunsAndListsAJob()
    {
        var environment = new Dictionary<string, string>(_identity.Environment) { ["SSL_CERT_FILE"] = _storage.CertificateFile };
        // The task hub on a connection of its own, as infra/ sets it with separateTaskHubStorage, through another identity.
        var settings = _storage.IdentitySettings("AzureWebJobsStorage", ClientId);
        foreach (var (key, value) in _storage.IdentitySettings(HubConnection, HubClientId))
        {
            settings[key] = value;
        }
        using var runner = new RunnerProcess(durable => durable["storageProvider"]!["connectionName"] = HubConnection, settings, environment, testStorage: false);
        await runner.StartAsync();
        var client = runner.Client;

        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 2 } });
        var id = (string)created["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(120));
        Assert.Equal("completed", (string?)end["status"]);
        var listed = await Listings.WalkAsync(client, "/api/jobs?limit=50");
        Assert.Contains(listed, job => (string?)job["id"] == id);

        // Tokens were asked for exactly the two identities the connections name: each connection used its own.
        Assert.Equal([ClientId, HubClientId], _identity.ClientIds.Distinct().Order().ToArray());
        // The records and the task hub are in the OAuth Azurite (read here with a token too).
        var tables = new TableServiceClient(_storage.TableServiceUri, ManagedIdentityEndpoint.CredentialFor(ClientId), Trusting());
        var names = new List<string>();
        await foreach (var table in tables.QueryAsync())
        {
            names.Add(table.Name);
        }
        Assert.Contains(runner.TablePrefix + "Jobs", names);
        Assert.Contains(names, name => name.EndsWith("History", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheOAuthAzurite_RefusesARequestWithoutAToken()
    {
        // What makes the test above mean something: this Azurite does not serve anonymous requests.
        using var http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null } });
        using var response = await http.GetAsync(new Uri(_storage.TableServiceUri, "devstoreaccount1/Tables"));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, response.StatusCode);
    }

    /// <summary>Client options for this test process: it trusts the Azurite's certificate and uses the stand-in identity.</summary>
    private TableClientOptions Trusting()
    {
        var options = new TableClientOptions();
        options.Transport = new Azure.Core.Pipeline.HttpClientTransport(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == PemCertificate().GetCertHashString() },
        });
        return options;
    }

    private System.Security.Cryptography.X509Certificates.X509Certificate2 PemCertificate() =>
        System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(_storage.CertificateFile));

    public void Dispose()
    {
        _identity.Dispose();
        _storage.Dispose();
    }
}
