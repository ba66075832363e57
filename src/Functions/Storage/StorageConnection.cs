using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace Jobs.Functions.Storage;

/// <summary>
/// One storage connection, read from its configuration section the way Azure Functions reads a connection: either a
/// connection string (the section's value: <c>AzureWebJobsStorage=DefaultEndpointsProtocol=…</c>), or an identity-based
/// connection (the section's children: <c>AzureWebJobsStorage__accountName</c> or <c>__blobServiceUri</c>,
/// <c>__queueServiceUri</c>, <c>__tableServiceUri</c>, with <c>__credential</c>, <c>__clientId</c>), whose clients get
/// an Entra token from Azure.Identity and never hold a key. The one place the app and the runner make storage clients from settings.
/// </summary>
public sealed class StorageConnection
{
    /// <summary>The value of <c>__credential</c> that selects the app's managed identity (the Functions setting's value).</summary>
    public const string ManagedIdentity = "managedidentity";

    private StorageConnection(string setting, string? connectionString, Uri? blob, Uri? queue, Uri? table, TokenCredential? credential)
    {
        Setting = setting;
        ConnectionString = connectionString;
        BlobServiceUri = blob;
        QueueServiceUri = queue;
        TableServiceUri = table;
        Credential = credential;
    }

    /// <summary>The setting it was read from (<c>AzureWebJobsStorage</c>), for messages.</summary>
    public string Setting { get; }

    /// <summary>The connection string, or null for an identity-based connection.</summary>
    public string? ConnectionString { get; }

    public Uri? BlobServiceUri { get; }
    public Uri? QueueServiceUri { get; }
    public Uri? TableServiceUri { get; }

    /// <summary>The token credential of an identity-based connection; null for a connection string.</summary>
    public TokenCredential? Credential { get; }

    public bool IsIdentityBased => Credential is not null;

    /// <summary>A connection string connection (tests, tools).</summary>
    public static StorageConnection FromConnectionString(string setting, string connectionString) =>
        new(setting, connectionString, null, null, null, null);

    /// <summary>
    /// Reads <paramref name="section"/>: its value is a connection string; otherwise its children describe an
    /// identity-based connection. Returns null when the section holds neither.
    /// </summary>
    /// <exception cref="InvalidOperationException">An identity-based connection misses an endpoint or has a malformed one; the message names the setting.</exception>
    public static StorageConnection? TryRead(IConfigurationSection section)
    {
        var setting = section.Path.Replace(":", "__", StringComparison.Ordinal);
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            return FromConnectionString(setting, section.Value);
        }
        var account = section["accountName"];
        if (string.IsNullOrWhiteSpace(account) && !new[] { "blobServiceUri", "queueServiceUri", "tableServiceUri" }.Any(k => !string.IsNullOrWhiteSpace(section[k])))
        {
            return null;
        }
        return new StorageConnection(setting, null,
            Endpoint(section, setting, "blob", account), Endpoint(section, setting, "queue", account), Endpoint(section, setting, "table", account),
            CredentialFor(section, setting));
    }

    /// <exception cref="InvalidOperationException">A malformed connection string: the message names the setting, never the value (it holds a key).</exception>
    public TableServiceClient CreateTableServiceClient(TableClientOptions options) =>
        Credential is null ? Parsed(() => new TableServiceClient(ConnectionString, options)) : new TableServiceClient(TableServiceUri, Credential, options);

    /// <exception cref="InvalidOperationException">As <see cref="CreateTableServiceClient"/>.</exception>
    public QueueServiceClient CreateQueueServiceClient(QueueClientOptions options) =>
        Credential is null ? Parsed(() => new QueueServiceClient(ConnectionString, options)) : new QueueServiceClient(QueueServiceUri, Credential, options);

    /// <exception cref="InvalidOperationException">As <see cref="CreateTableServiceClient"/>.</exception>
    public BlobServiceClient CreateBlobServiceClient(BlobClientOptions? options = null) =>
        Credential is null ? Parsed(() => new BlobServiceClient(ConnectionString, options)) : new BlobServiceClient(BlobServiceUri, Credential, options);

    private T Parsed<T>(Func<T> create)
    {
        try
        {
            return create();
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            // The SDK's message ("No valid combination of account information found") names no setting.
            throw new InvalidOperationException($"The storage connection setting '{Setting}' is not a valid connection string: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// <c>__{service}ServiceUri</c>, else the public cloud's endpoint of <c>__accountName</c> (as the Functions host
    /// derives it). Every service is needed: the app keeps tables, queues and blobs on one connection.
    /// </summary>
    private static Uri Endpoint(IConfigurationSection section, string setting, string service, string? account)
    {
        var key = service + "ServiceUri";
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return string.IsNullOrWhiteSpace(account)
                ? throw new InvalidOperationException($"The identity-based storage connection '{setting}' has no {service} endpoint: set {setting}__{key} (or {setting}__accountName).")
                : new Uri($"https://{account}.{service}.core.windows.net");
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
            ? uri
            : throw new InvalidOperationException($"{setting}__{key} must be an absolute https URI (a token is never sent over plain HTTP); it is '{value}'.");
    }

    /// <summary>
    /// The credential, chosen as Azure Functions chooses it (Microsoft.Extensions.Azure's client factory):
    /// <c>__credential=managedidentity</c> is the app's managed identity — the user-assigned one <c>__clientId</c>
    /// names, else the system-assigned one; <c>__tenantId</c> + <c>__clientId</c> + <c>__clientSecret</c> is a service
    /// principal; anything else is <see cref="DefaultAzureCredential"/> (a developer's Azure CLI or Visual Studio
    /// sign-in locally), preferring the managed identity <c>__clientId</c> names.
    /// </summary>
    private static TokenCredential CredentialFor(IConfigurationSection section, string setting)
    {
        var credential = section["credential"];
        var clientId = NullIfBlank(section["clientId"]);
        if (string.Equals(credential, ManagedIdentity, StringComparison.OrdinalIgnoreCase))
        {
            var resourceId = NullIfBlank(section["managedIdentityResourceId"]);
            return resourceId is not null
                ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedResourceId(new ResourceIdentifier(resourceId)))
                : new ManagedIdentityCredential(clientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(clientId));
        }
        if (!string.IsNullOrWhiteSpace(credential))
        {
            throw new InvalidOperationException($"{setting}__credential is '{credential}'; the one value it takes is '{ManagedIdentity}' (leave it unset for the default credential chain).");
        }
        var tenantId = NullIfBlank(section["tenantId"]);
        var secret = NullIfBlank(section["clientSecret"]);
        if (tenantId is not null && clientId is not null && secret is not null)
        {
            return new ClientSecretCredential(tenantId, clientId, secret);
        }
        return new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId, TenantId = tenantId });
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
