using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Jobs.LocalRunner.Configuration;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;

namespace Jobs.RunnerTests;

/// <summary>
/// The secrets blob and the host id, as the host has them (Azure/azure-functions-host:
/// src/WebJobs.Script.WebHost/Security/KeyManagement/BlobStorageSecretsRepository.cs, HostSecrets.cs, Key.cs;
/// src/WebJobs.Script/Host/ScriptHostIdProvider.cs and Utility.GetStableHash).
/// </summary>
public sealed class HostSecretsStoreTests
{
    private static BlobContainerClient Container() => new(TestStorage.ConnectionString, HostSecretsStore.ContainerName);

    private static string NewHostId() => "secrets" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public void TheStableHash_IsTheHosts()
    {
        // ((23 * 31 + 'a') * 31 + 'b') * 31 + 'c', in 32-bit arithmetic that may wrap.
        Assert.Equal(781547, HostId.StableHash("abc"));
        Assert.Equal(23, HostId.StableHash(""));
        Assert.Equal(HostId.StableHash("/home/app"), HostId.StableHash("/home/app"));
    }

    [Fact]
    public void TheLocalHostId_IsMachineDashHash_Lowercase_AtMost32_UnlessConfigured()
    {
        var none = new ConfigurationBuilder().Build();
        var id = HostId.Resolve(none, "/srv/apps/jobs");
        var machine = new string([.. Environment.MachineName.Where(char.IsLetterOrDigit)]).ToLowerInvariant();
        var expected = $"{machine}-{Math.Abs((long)HostId.StableHash("/srv/apps/jobs"))}";
        Assert.Equal((expected.Length > 32 ? expected[..32] : expected).TrimEnd('-'), id);
        Assert.True(id.Length <= 32);
        Assert.Equal(id.ToLowerInvariant(), id);
        Assert.NotEqual(id, HostId.Resolve(none, "/srv/apps/other"));

        var configured = new ConfigurationBuilder().AddInMemoryCollection([new("AzureFunctionsWebHost:hostid", "my-host")]).Build();
        Assert.Equal("my-host", HostId.Resolve(configured, "/srv/apps/jobs"));
    }

    [Fact]
    public async Task AStoredBlobWithoutTheSystemKey_GetsItAdded_AndKeepsItsOtherKeys()
    {
        var hostId = NewHostId();
        var blob = Container().GetBlobClient($"{hostId}/host.json");
        await Container().CreateIfNotExistsAsync();
        // What a host writes before any extension asked for a key (the shape of HostSecrets).
        await blob.UploadAsync(BinaryData.FromString("""
            {"masterKey":{"name":"master","value":"m-value","encrypted":false},
             "functionKeys":[{"name":"default","value":"f-value","encrypted":false},{"name":"ci","value":"ci-value","encrypted":false}],
             "systemKeys":[],"hostName":"localhost:7071","instanceId":"x","source":"runtime","decryptionKeyId":""}
            """));

        var keys = new HostSecretsStore(Container(), hostId).LoadOrCreate(HostKeys.DurableTaskSystemKeyName);

        Assert.Equal("m-value", keys.MasterKey);
        Assert.Equal("ci-value", keys.FunctionKeys["ci"]);
        var stored = JsonNode.Parse((await blob.DownloadContentAsync()).Value.Content.ToString())!.AsObject();
        Assert.Equal(keys.DurableTaskSystemKey, HostSecretsBlob.KeyValue(stored, "systemKeys", "durabletask_extension"));
        Assert.Equal("localhost:7071", (string?)stored["hostName"]);
        // A second load reads what is there and writes nothing.
        var etag = (await blob.GetPropertiesAsync()).Value.ETag;
        Assert.Equal(keys.DurableTaskSystemKey, new HostSecretsStore(Container(), hostId).LoadOrCreate(HostKeys.DurableTaskSystemKeyName).DurableTaskSystemKey);
        Assert.Equal(etag, (await blob.GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task EncryptedKeys_WrittenByAHostInAzure_AreRefusedWithAClearMessage()
    {
        var hostId = NewHostId();
        await Container().CreateIfNotExistsAsync();
        await Container().GetBlobClient($"{hostId}/host.json").UploadAsync(BinaryData.FromString("""
            {"masterKey":{"name":"master","value":"CfDJ8...","encrypted":true},"functionKeys":[],"systemKeys":[]}
            """));
        var error = Assert.Throws<NotSupportedException>(() => new HostSecretsStore(Container(), hostId).LoadOrCreate(HostKeys.DurableTaskSystemKeyName));
        Assert.Contains("AzureFunctionsWebHost:hostid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunnersStartingTogether_AgreeOnOneSetOfKeys()
    {
        var hostId = NewHostId();
        var loads = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            Task.Run(() => new HostSecretsStore(Container(), hostId).LoadOrCreate(HostKeys.DurableTaskSystemKeyName))));
        Assert.Single(loads.Select(k => k.MasterKey).Distinct());
        Assert.Single(loads.Select(k => k.DurableTaskSystemKey).Distinct());
    }
}
