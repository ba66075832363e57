using Jobs.Functions.Storage;
using Microsoft.Extensions.Configuration;

namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// Finds the storage connection (a connection string, or identity-based settings) behind a connection name the way WebJobs extensions do
/// (IConfiguration.GetWebJobsConnectionSection, mirrored by the Durable extension's WebJobsConnectionInfoProvider):
/// <c>ConnectionStrings:AzureWebJobs{name}</c>, then the setting <c>AzureWebJobs{name}</c>, then
/// <c>ConnectionStrings:{name}</c>, then the setting <c>{name}</c>. So <c>Storage</c> is <c>AzureWebJobsStorage</c>.
/// </summary>
public static class StorageConnections
{
    /// <summary>The connection: a connection string or an identity-based one (<see cref="StorageConnection"/>).</summary>
    public static StorageConnection Resolve(IConfiguration configuration, string connectionName)
    {
        var section = Find(configuration, "AzureWebJobs" + connectionName);
        if (!section.Exists())
        {
            section = Find(configuration, connectionName);
        }
        return StorageConnection.TryRead(section)
            ?? throw new InvalidOperationException($"Unable to resolve the Azure Storage connection named '{connectionName}'.");
    }

    private static IConfigurationSection Find(IConfiguration configuration, string name)
    {
        var connectionString = configuration.GetSection("ConnectionStrings").GetSection(name);
        return connectionString.Exists() ? connectionString : configuration.GetSection(name);
    }
}
