using Azure.Identity;
using Jobs.Functions.Storage;
using Microsoft.Extensions.Configuration;

namespace Jobs.UnitTests.Storage;

/// <summary>
/// A storage connection read from its settings as Azure Functions reads one (learn.microsoft.com, "Connecting to host
/// storage with an identity"): a connection string, or identity-based settings under the connection's name.
/// </summary>
public sealed class StorageConnectionTests
{
    private static IConfiguration Settings(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    [Fact]
    public void ConnectionString_IsTakenAsItIs()
    {
        var connection = StorageClients.Connection(Settings(("AzureWebJobsStorage", "UseDevelopmentStorage=true")), "AzureWebJobsStorage");
        Assert.False(connection.IsIdentityBased);
        Assert.Equal("UseDevelopmentStorage=true", connection.ConnectionString);
    }

    [Fact]
    public void AccountName_GivesThePublicCloudEndpoints_AndTheManagedIdentity()
    {
        var connection = StorageClients.Connection(Settings(
            ("AzureWebJobsStorage:accountName", "stjobs"),
            ("AzureWebJobsStorage:credential", "managedidentity"),
            ("AzureWebJobsStorage:clientId", "0b6d8e52-9f3a-4c71-8e0d-5a2f4c6b7d19")), "AzureWebJobsStorage");
        Assert.True(connection.IsIdentityBased);
        Assert.Null(connection.ConnectionString);
        Assert.Equal(new Uri("https://stjobs.blob.core.windows.net"), connection.BlobServiceUri);
        Assert.Equal(new Uri("https://stjobs.queue.core.windows.net"), connection.QueueServiceUri);
        Assert.Equal(new Uri("https://stjobs.table.core.windows.net"), connection.TableServiceUri);
        Assert.IsType<ManagedIdentityCredential>(connection.Credential);
        var tables = connection.CreateTableServiceClient(new Azure.Data.Tables.TableClientOptions());
        Assert.Equal("stjobs", tables.AccountName);
    }

    [Fact]
    public void ServiceUris_OverrideTheAccountName_AndWithoutACredentialTheDefaultChainIsUsed()
    {
        var connection = StorageClients.Connection(Settings(
            ("JobsData:accountName", "ignored"),
            ("JobsData:tableServiceUri", "https://tables.example.test/acct"),
            ("JobsData:queueServiceUri", "https://queues.example.test/acct"),
            ("JobsData:blobServiceUri", "https://blobs.example.test/acct")), "JobsData");
        Assert.Equal(new Uri("https://tables.example.test/acct"), connection.TableServiceUri);
        Assert.Equal(new Uri("https://queues.example.test/acct"), connection.QueueServiceUri);
        Assert.Equal(new Uri("https://blobs.example.test/acct"), connection.BlobServiceUri);
        Assert.IsType<DefaultAzureCredential>(connection.Credential);
    }

    [Fact]
    public void TenantClientAndSecret_AreAServicePrincipal()
    {
        var connection = StorageClients.Connection(Settings(
            ("AzureWebJobsStorage:accountName", "stjobs"),
            ("AzureWebJobsStorage:tenantId", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("AzureWebJobsStorage:clientId", "0b6d8e52-9f3a-4c71-8e0d-5a2f4c6b7d19"),
            ("AzureWebJobsStorage:clientSecret", "s")), "AzureWebJobsStorage");
        Assert.IsType<ClientSecretCredential>(connection.Credential);
    }

    [Fact]
    public void AMissingEndpoint_NamesTheSettingToSet()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StorageClients.Connection(Settings(
            ("AzureWebJobsStorage:blobServiceUri", "https://b.example.test"),
            ("AzureWebJobsStorage:queueServiceUri", "https://q.example.test")), "AzureWebJobsStorage"));
        Assert.Contains("AzureWebJobsStorage__tableServiceUri", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APlainHttpEndpoint_IsRefused_ForATokenWouldTravelInTheClear()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StorageClients.Connection(Settings(
            ("AzureWebJobsStorage:accountName", "stjobs"),
            ("AzureWebJobsStorage:tableServiceUri", "http://127.0.0.1:10002/devstoreaccount1")), "AzureWebJobsStorage"));
        Assert.Contains("AzureWebJobsStorage__tableServiceUri must be an absolute https URI", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownCredential_NamesTheSettingAndItsOneValue()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StorageClients.Connection(Settings(
            ("AzureWebJobsStorage:accountName", "stjobs"),
            ("AzureWebJobsStorage:credential", "managed")), "AzureWebJobsStorage"));
        Assert.Equal("AzureWebJobsStorage__credential is 'managed'; the one value it takes is 'managedidentity' (leave it unset for the default credential chain).", error.Message);
    }

    [Fact]
    public void NoSetting_SaysBothWaysToGiveOne()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StorageClients.Connection(Settings(), "AzureWebJobsStorage"));
        Assert.Contains("AzureWebJobsStorage__accountName", error.Message, StringComparison.Ordinal);
        Assert.Contains("connection string", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConnectionStringsSection_WinsOverTheSetting()
    {
        var connection = StorageClients.Connection(Settings(
            ("ConnectionStrings:JobsData", "UseDevelopmentStorage=true"),
            ("JobsData:accountName", "stjobs")), "JobsData");
        Assert.Equal("UseDevelopmentStorage=true", connection.ConnectionString);
    }
}
