using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Configuration;

namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// Keeps the host keys where the Functions host keeps them by default (BlobStorageSecretsRepository): the blob
/// <c>{hostId}/host.json</c> in the <c>azure-webjobs-secrets</c> container of <c>AzureWebJobsStorage</c>, in the host's
/// JSON shape (<c>masterKey</c>, <c>functionKeys</c>, <c>systemKeys</c>, unencrypted as Core Tools writes them). The
/// first start creates the master key, the <c>default</c> function key and the Durable extension's system key; later
/// starts — and other runners with the same host id — read the same keys. A missing system key is added, as the host
/// adds an extension's key on demand.
/// </summary>
public sealed class HostSecretsStore(BlobContainerClient container, string hostId)
{
    public const string ContainerName = "azure-webjobs-secrets";

    public string BlobName { get; } = hostId.ToLowerInvariant() + "/host.json";

    /// <summary>Reads the stored keys, creating them (or a missing system key) under optimistic concurrency.</summary>
    public HostKeys LoadOrCreate(string systemKeyName)
    {
        container.CreateIfNotExists();
        var blob = container.GetBlobClient(BlobName);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return LoadOrCreateOnce(blob, systemKeyName);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 10)
            {
                // Another runner (or a host) wrote the keys between our read and our write: read theirs.
            }
        }
    }

    private static HostKeys LoadOrCreateOnce(BlobClient blob, string systemKeyName)
    {
        JsonObject secrets;
        BlobRequestConditions condition;
        try
        {
            var stored = blob.DownloadContent().Value;
            secrets = JsonNode.Parse(stored.Content.ToString()) as JsonObject
                ?? throw new InvalidDataException($"{blob.Uri} is not a JSON object.");
            condition = new BlobRequestConditions { IfMatch = stored.Details.ETag };
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            secrets = new JsonObject
            {
                ["masterKey"] = Key(HostKeys.MasterKeyName),
                ["functionKeys"] = new JsonArray(Key(HostKeys.DefaultFunctionKeyName)),
                ["systemKeys"] = new JsonArray(),
                ["hostName"] = null,
                ["instanceId"] = Guid.NewGuid().ToString("N"),
                ["source"] = "runtime",
                ["decryptionKeyId"] = "",
            };
            condition = new BlobRequestConditions { IfNoneMatch = ETag.All };
        }

        var systemKeys = secrets["systemKeys"] as JsonArray ?? [];
        secrets["systemKeys"] = systemKeys;
        var changed = condition.IfNoneMatch is not null;
        if (!systemKeys.Any(k => string.Equals((string?)k?["name"], systemKeyName, StringComparison.OrdinalIgnoreCase)))
        {
            systemKeys.Add(Key(systemKeyName));
            changed = true;
        }
        if (changed)
        {
            blob.Upload(BinaryData.FromString(secrets.ToJsonString()), new BlobUploadOptions { Conditions = condition });
        }
        return new HostKeys(
            Value(secrets["masterKey"]) is { } master ? master.Value : throw new InvalidDataException($"{blob.Uri} has no masterKey."),
            Values(secrets["functionKeys"]),
            Values(systemKeys));
    }

    private static Dictionary<string, string> Values(JsonNode? keys) =>
        (keys as JsonArray ?? []).Select(Value).OfType<KeyValuePair<string, string>>()
            .GroupBy(k => k.Key, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.OrdinalIgnoreCase);

    private static KeyValuePair<string, string>? Value(JsonNode? key)
    {
        if (key is null)
        {
            return null;
        }
        if ((bool?)key["encrypted"] == true)
        {
            // Keys a host in Azure wrote are encrypted with that site's machine key, which is not available here.
            throw new NotSupportedException($"The stored key '{(string?)key["name"]}' is encrypted; give the runner its own host id ({HostId.Setting}).");
        }
        return (string?)key["name"] is { } name && (string?)key["value"] is { Length: > 0 } value ? new(name, value) : null;
    }

    private static JsonObject Key(string name) => new()
    {
        ["name"] = name,
        ["value"] = NewSecret(),
        ["encrypted"] = false,
    };

    /// <summary>40 random bytes, base64url: as long as the host's keys, without their checksum signature.</summary>
    private static string NewSecret() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(40)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
