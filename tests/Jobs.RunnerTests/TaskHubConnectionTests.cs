using Jobs.LocalRunner;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Durable;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.RunnerTests;

/// <summary>
/// extensions.durableTask.storageProvider.connectionName puts the task hub on the connection that setting names,
/// resolved as WebJobs resolves connection names (Azure/azure-functions-durable-extension v3.x:
/// AzureStorageDurabilityProviderFactory uses ConnectionName ?? "Storage"; WebJobsConnectionInfoProvider finds it), and
/// the management URLs name that connection (HttpApiHandler writes connection={connectionName}).
/// </summary>
public sealed class TaskHubConnectionTests
{
    private const string ConnectionSetting = "AzureFunctionsJobHost:extensions:durableTask:storageProvider:connectionName";

    [Fact]
    public async Task TheTaskHub_RunsOnTheNamedConnection()
    {
        // The same Azurite, spelled differently, so the test can see which string the engine was given.
        var hubConnection = TestStorage.ConnectionString.TrimEnd(';');
        Assert.NotEqual(TestStorage.ConnectionString, hubConnection);
        var runner = new CustomRunner((ConnectionSetting, "HubStorage"), ("ConnectionStrings:HubStorage", hubConnection));
        await runner.InitializeAsync();
        try
        {
            Assert.Equal(hubConnection, runner.Services.GetRequiredService<EngineSettings>().Connection.ConnectionString);
            using var admin = runner.Client("hub-admin", "admin");
            var created = await RunnerFixture.CreateJobAsync(admin, new { type = "demo.steps", input = new { steps = 1 } });
            var statusUri = (string)created["nativeManagementUrls"]!["statusQueryGetUri"]!;
            Assert.Contains("&connection=HubStorage&", statusUri, StringComparison.Ordinal);
            Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(admin, (string)created["id"]!))["status"]);
        }
        finally
        {
            await runner.DisposeAsync();
        }
    }

    [Fact]
    public void AConnectionNameThatResolvesToNothing_StopsTheStart()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RunnerHost.Build(new RunnerOptions
        {
            ContentRoot = RepoPaths.Root,
            Urls = "http://127.0.0.1:0",
            LoadLocalSettings = false,
            Settings = new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = TestStorage.ConnectionString,
                ["Jobs:Runner:SystemKey"] = "not-used",
                [ConnectionSetting] = "NoSuchConnection",
            },
        }));
        Assert.Equal("Unable to resolve the Azure Storage connection named 'NoSuchConnection'.", error.Message);
    }
}
