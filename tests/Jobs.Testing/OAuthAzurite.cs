using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Jobs.Testing;

/// <summary>
/// An Azurite of its own that takes Entra tokens: HTTPS with a self-signed certificate made here for 127.0.0.1 and
/// <c>--oauth basic</c> (Azurite checks a bearer token's issuer, audience and lifetime, not its signature). In memory,
/// on free ports, stopped on dispose. A process that talks to it trusts the certificate through <see cref="CertificateFile"/>
/// (OpenSSL's <c>SSL_CERT_FILE</c>, which .NET on Linux reads for its root store).
/// </summary>
public sealed class OAuthAzurite : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jobs-oauth-azurite-").FullName;
    private readonly Process _process;

    public OAuthAzurite()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        CertificateFile = Path.Combine(_dir, "cert.pem");
        var keyFile = Path.Combine(_dir, "key.pem");
        File.WriteAllText(CertificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());

        var azurite = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
        {
            throw new InvalidOperationException("Azurite is not installed: run scripts/test.sh (or npm ci) first.");
        }
        int blob = TestStorage.FreePort(), queue = TestStorage.FreePort(), table = TestStorage.FreePort();
        var start = new ProcessStartInfo(azurite)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
            "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
            "--blobPort", $"{blob}", "--queuePort", $"{queue}", "--tablePort", $"{table}",
            "--oauth", "basic", "--cert", CertificateFile, "--key", keyFile,
        })
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        foreach (var port in new[] { blob, queue, table })
        {
            TestStorage.WaitForPort(port);
        }
        BlobServiceUri = new Uri($"https://127.0.0.1:{blob}/devstoreaccount1");
        QueueServiceUri = new Uri($"https://127.0.0.1:{queue}/devstoreaccount1");
        TableServiceUri = new Uri($"https://127.0.0.1:{table}/devstoreaccount1");
    }

    /// <summary>The PEM of the self-signed certificate Azurite serves: what a client must trust.</summary>
    public string CertificateFile { get; }

    public Uri BlobServiceUri { get; }
    public Uri QueueServiceUri { get; }
    public Uri TableServiceUri { get; }

    /// <summary>
    /// The identity-based connection <paramref name="name"/> to this Azurite in the Functions setting names, through
    /// the managed identity <paramref name="clientId"/> names.
    /// </summary>
    public Dictionary<string, string> IdentitySettings(string name, string clientId) => new()
    {
        [$"{name}__blobServiceUri"] = BlobServiceUri.ToString(),
        [$"{name}__queueServiceUri"] = QueueServiceUri.ToString(),
        [$"{name}__tableServiceUri"] = TableServiceUri.ToString(),
        [$"{name}__credential"] = "managedidentity",
        [$"{name}__clientId"] = clientId,
    };

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
