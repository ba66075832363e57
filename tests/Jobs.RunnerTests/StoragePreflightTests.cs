using System.Net;
using System.Net.Sockets;
using Jobs.Functions.Storage;
using Jobs.LocalRunner;
using Jobs.LocalRunner.Configuration;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.RunnerTests;

/// <summary>
/// The runner's start-up checks in process (the child-process view is <see cref="StartupErrorTests"/>): which setting
/// and endpoint a failure names, and that a reachable endpoint passes. No Azurite: closed and open loopback ports.
/// </summary>
public sealed class StoragePreflightTests
{
    private static string Connection(int port) => TestStorage.ConnectionStringFor(port, port, port);

    private static RunnerOptions Options(Dictionary<string, string?> settings) =>
        new() { ContentRoot = RepoPaths.Root, LoadLocalSettings = false, Settings = settings };

    [Fact]
    public async Task ReachableEndpoints_Pass()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        await StoragePreflight.CheckAsync([new StoragePreflight.Connection("AzureWebJobsStorage", Connection(port))], default);
    }

    [Fact]
    public async Task ClosedPort_IsStorageUnreachable_NamingServiceEndpointAndSetting_WithTheAzuriteHint()
    {
        var port = TestStorage.FreePort();

        var error = await Assert.ThrowsAsync<StartupException>(() =>
            StoragePreflight.CheckAsync([new StoragePreflight.Connection("MyStorage", Connection(port))], default));

        Assert.Equal(StartupException.StorageUnreachable, error.ExitCode);
        Assert.Contains($"nothing answers at 127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("of 'MyStorage' (connection refused)", error.Message, StringComparison.Ordinal);
        Assert.Contains("npx azurite", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRemoteHost_IsStorageUnreachable_WithoutTheAzuriteHint()
    {
        var connection = new StoragePreflight.Connection("AzureWebJobsStorage", null, new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["AzureWebJobsStorage:accountName"] = "no-such-account.invalid" })
            .Build().GetSection("AzureWebJobsStorage"));

        var error = await Assert.ThrowsAsync<StartupException>(() => StoragePreflight.CheckAsync([connection], default));

        Assert.Equal(StartupException.StorageUnreachable, error.ExitCode);
        Assert.Contains("https://no-such-account.invalid.blob.core.windows.net/", error.Message, StringComparison.Ordinal);
        Assert.Contains("firewall, private endpoint, DNS", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("azurite", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void IdentityConnection_WithoutAccountOrServiceUri_IsAnInvalidSetting()
    {
        var connection = new StoragePreflight.Connection("AzureWebJobsStorage", null, new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["AzureWebJobsStorage:credential"] = "managedidentity" })
            .Build().GetSection("AzureWebJobsStorage"));

        var error = Assert.Throws<StartupException>(() => StoragePreflight.Endpoints(connection));

        Assert.Equal(StartupException.InvalidSetting, error.ExitCode);
        Assert.Contains("'AzureWebJobsStorage__accountName'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preflight_StorageSettingMissing_IsAnInvalidSetting_NamingIt()
    {
        var error = await Assert.ThrowsAsync<StartupException>(() =>
            RunnerHost.PreflightAsync(Options(new Dictionary<string, string?> { ["AzureWebJobsStorage"] = TestStorage.ConnectionStringFor(1, 1, 1), ["Jobs:Storage:ConnectionSetting"] = "JobsStorage" }), default));

        Assert.Equal(StartupException.InvalidSetting, error.ExitCode);
        Assert.StartsWith("The setting 'JobsStorage' is not set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preflight_MalformedAppConnection_NamesTheAppsSetting()
    {
        var error = await Assert.ThrowsAsync<StartupException>(() => RunnerHost.PreflightAsync(Options(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = TestStorage.ConnectionStringFor(1, 1, 1),
            ["Jobs:Storage:ConnectionSetting"] = "JobsStorage",
            ["JobsStorage"] = "AccountName=x;AccountKey=not base64!",
        }), default));

        Assert.Equal(StartupException.InvalidSetting, error.ExitCode);
        Assert.StartsWith("The setting 'JobsStorage' is not a valid storage connection string", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7071", "http://127.0.0.1:7071/api")]
    [InlineData("http://+:8080", "http://localhost:8080/api")]
    [InlineData("http://0.0.0.0:8080", "http://localhost:8080/api")]
    [InlineData("http://[::]:8080", "http://localhost:8080/api")]
    public void ServingBanner_NamesBrowsableAddresses(string listening, string root)
    {
        using var services = new ServiceCollection().AddSingleton(new HostSettings()).BuildServiceProvider();

        var banner = ServingBanner.For([listening], services);

        Assert.Contains($"API        {root}/jobs", banner, StringComparison.Ordinal);
        Assert.Contains($"Dashboard  {root}/dashboard", banner, StringComparison.Ordinal);
        Assert.Contains($"OpenAPI    {root}/openapi.json", banner, StringComparison.Ordinal);
        Assert.Contains($"Health     {root}/health", banner, StringComparison.Ordinal);
    }

    [Fact]
    public void SectionOf_NamesTheSectionAndItsEnvironmentForm() =>
        Assert.Equal("Jobs:Storage, set as Jobs__Storage__*", ServingBanner.SectionOf(typeof(StorageOptions)));
}
