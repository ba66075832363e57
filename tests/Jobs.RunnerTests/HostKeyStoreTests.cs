using System.Net;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// The host keeps its keys in storage and reuses them on every start (Azure/azure-functions-host:
/// BlobStorageSecretsRepository writes azure-webjobs-secrets/{hostId}/host.json; DefaultScriptWebHookProvider creates
/// the durabletask_extension system key once, on demand); the runner keeps them in the same blob of the app's storage
/// account, so the system key in handed-out management URLs survives a restart.
/// </summary>
public sealed class HostKeyStoreTests
{
    private static (string, string?)[] Settings(string hostId) =>
    [
        ("AzureFunctionsWebHost:hostid", hostId),
        ("Jobs:Runner:SystemKey", null),
        ("Jobs:Runner:RequireKeys", "true"),
    ];

    private static async Task<string> NativeStatusUriAsync(RunnerFixture runner, string functionKey)
    {
        using var admin = runner.Client("store-admin", "admin");
        admin.DefaultRequestHeaders.Add("x-functions-key", functionKey);
        var created = await RunnerFixture.CreateJobAsync(admin, new { type = "demo.steps", input = new { steps = 1 } });
        return (string)created["nativeManagementUrls"]!["statusQueryGetUri"]!;
    }

    [Fact]
    public async Task TheKeys_AreCreatedOnce_InTheHostsSecretsBlob_AndKeptAcrossRestarts()
    {
        var hostId = "store" + Guid.NewGuid().ToString("N")[..12];
        JsonObject first;
        await using (var runner = new AsyncRunner(new CustomRunner(Settings(hostId))))
        {
            await runner.StartAsync();
            first = await HostSecretsBlob.ReadAsync(hostId);
            Assert.False((bool)first["masterKey"]!["encrypted"]!);
            Assert.Equal("master", (string?)first["masterKey"]!["name"]);
            var systemKey = HostSecretsBlob.KeyValue(first, "systemKeys", "durabletask_extension");
            var functionKey = HostSecretsBlob.KeyValue(first, "functionKeys", "default");

            var statusUri = await NativeStatusUriAsync(runner.Runner, functionKey);
            Assert.Contains($"&connection=Storage&code={systemKey}", statusUri, StringComparison.Ordinal);
            using var anonymous = new HttpClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(statusUri.Split('?')[0])).StatusCode);
            await RunnerFixture.WaitForRuntimeStatusAsync(anonymous, statusUri, "Completed");
        }

        await using (var restarted = new AsyncRunner(new CustomRunner(Settings(hostId))))
        {
            await restarted.StartAsync();
            var again = await HostSecretsBlob.ReadAsync(hostId);
            Assert.Equal(first.ToJsonString(), again.ToJsonString());
            var statusUri = await NativeStatusUriAsync(restarted.Runner, HostSecretsBlob.KeyValue(again, "functionKeys", "default"));
            Assert.Contains($"&code={HostSecretsBlob.KeyValue(first, "systemKeys", "durabletask_extension")}", statusUri, StringComparison.Ordinal);
            using var anonymous = new HttpClient();
            await RunnerFixture.WaitForRuntimeStatusAsync(anonymous, statusUri, "Completed");
        }
    }

    /// <summary>Starts and stops a runner the test owns.</summary>
    private sealed class AsyncRunner(RunnerFixture runner) : IAsyncDisposable
    {
        public RunnerFixture Runner => runner;

        public Task StartAsync() => runner.InitializeAsync();

        public async ValueTask DisposeAsync() => await runner.DisposeAsync();
    }
}
