using Jobs.Functions.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Jobs.UnitTests.Storage;

public sealed class StorageClientsTests
{
    [Fact]
    public void MalformedConnectionString_NamesItsSetting_AndNotTheKey()
    {
        const string mistypedKey = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=bm90LWJhc2U2NA=x;EndpointSuffix=core.windows.net";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["JobsStorage"] = mistypedKey }).Build();
        var options = Options.Create(new StorageOptions { ConnectionSetting = "JobsStorage" });

        var error = Assert.Throws<InvalidOperationException>(() => new StorageClients(configuration, options, new StorageRequestCounter(), []));

        Assert.StartsWith("The storage connection setting 'JobsStorage' is not a valid connection string", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("bm90LWJhc2U2NA", error.Message, StringComparison.Ordinal);
    }
}
