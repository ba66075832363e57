using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Artifacts;

/// <summary>
/// A job's artifacts in Blob storage: one container (<see cref="StorageOptions.ArtifactContainer"/>), one blob per
/// artifact named <c>{jobId}/{name}</c>, so a job's artifacts are one prefix to list and delete. A write is one upload
/// of committed blocks: a blob exists only once it is whole, and a retried write of the same name overwrites it.
/// </summary>
public sealed class ArtifactStore(StorageClients clients, IOptions<ArtifactOptions> options)
{
    /// <summary>Bytes per block, and at most this many blocks in flight per upload: the memory an upload holds.</summary>
    private const int BlockBytes = 4 * 1024 * 1024;
    private const int Concurrency = 2;

    private BlobContainerClient Container => clients.ArtifactContainer;

    /// <summary>
    /// Writes <paramref name="content"/> (read to its end, never held whole) as the artifact <paramref name="name"/> of
    /// the job, replacing one of that name. Refused (<see cref="ArtifactTooLargeException"/>, nothing committed) past
    /// <see cref="ArtifactOptions.MaxArtifactBytes"/>, past <see cref="ArtifactOptions.MaxJobBytes"/> with the job's
    /// other artifacts, or when the job has <see cref="ArtifactOptions.MaxPerJob"/> others already.
    /// </summary>
    public async Task<ArtifactInfo> WriteAsync(string jobId, string name, Stream content, string contentType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArtifactNames.Check(name);
        var caps = options.Value;
        var others = (await ListAsync(jobId, cancellationToken)).Where(a => a.Name != name).ToList();
        if (others.Count >= caps.MaxPerJob)
        {
            throw new ArtifactTooLargeException($"Job {jobId} already has {others.Count} artifacts; at most {caps.MaxPerJob} are allowed.");
        }
        var room = Math.Min(caps.MaxArtifactBytes, caps.MaxJobBytes - others.Sum(a => a.Bytes));
        var capped = new CappedStream(content, Math.Max(0, room), $"Artifact '{name}' (with the job's other artifacts: at most {caps.MaxJobBytes} bytes)");
        await using (capped.ConfigureAwait(false))
        {
            await Container.GetBlobClient(BlobName(jobId, name)).UploadAsync(capped, new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = contentType },
                TransferOptions = new StorageTransferOptions
                {
                    InitialTransferSize = BlockBytes,
                    MaximumTransferSize = BlockBytes,
                    MaximumConcurrency = Concurrency,
                },
            }, cancellationToken);
        }
        return new ArtifactInfo(name, capped.BytesRead, contentType, ArtifactInfo.HrefOf(jobId, name), LastModified: null);
    }

    /// <summary>
    /// When <paramref name="result"/>'s JSON is longer than a job's inline result may be (<see cref="JobResultLimit"/>),
    /// writes it as the artifact <see cref="ArtifactNames.Result"/> and returns what the job's result holds instead;
    /// null when it fits inline.
    /// </summary>
    public async Task<SpilledResult?> SpillIfLargeAsync(string jobId, object? result, CancellationToken cancellationToken)
    {
        if (result is null)
        {
            return null;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(result, JobJson.Options);
        // A character is at least one UTF-8 byte: a JSON no longer in bytes than the cap fits it.
        if (json.Length <= JobResultLimit.MaxChars || Encoding.UTF8.GetCharCount(json) <= JobResultLimit.MaxChars)
        {
            return null;
        }
        using var stream = new MemoryStream(json, writable: false);
        return new SpilledResult(await WriteAsync(jobId, ArtifactNames.Result, stream, "application/json", cancellationToken));
    }

    /// <summary>The job's artifacts by name (at most <see cref="ArtifactOptions.MaxPerJob"/>: one listing request).</summary>
    public async Task<IReadOnlyList<ArtifactInfo>> ListAsync(string jobId, CancellationToken cancellationToken)
    {
        var prefix = Prefix(jobId);
        var found = new List<ArtifactInfo>();
        await foreach (var page in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).AsPages(pageSizeHint: options.Value.MaxPerJob))
        {
            found.AddRange(page.Values.Select(b => new ArtifactInfo(b.Name[prefix.Length..], b.Properties.ContentLength ?? 0,
                b.Properties.ContentType ?? "application/octet-stream", ArtifactInfo.HrefOf(jobId, b.Name[prefix.Length..]), b.Properties.LastModified)));
            break;
        }
        return found;
    }

    /// <summary>
    /// Opens the artifact for reading (one request; the content streams from the blob as it is read), or the byte range
    /// asked for; null when the job has no artifact of that name.
    /// </summary>
    public async Task<BlobDownloadStreamingResult?> OpenAsync(string jobId, string name, HttpRange range, CancellationToken cancellationToken)
    {
        try
        {
            return (await Container.GetBlobClient(BlobName(jobId, name)).DownloadStreamingAsync(new BlobDownloadOptions { Range = range }, cancellationToken)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// The length a 416 from Blob storage names: it answers <c>InvalidRange</c> with <c>Content-Range: bytes */length</c>
    /// (RFC 9110), so the length costs no request. Null when the header is absent or not of that form (Azurite sends none).
    /// </summary>
    public static long? LengthOfUnsatisfiedRange(string? contentRange)
    {
        const string Prefix = "bytes */";
        return contentRange is not null && contentRange.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
            && long.TryParse(contentRange.AsSpan(Prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
            ? length
            : null;
    }

    /// <summary>The artifact's length in bytes (one request), or null when the job has no artifact of that name.</summary>
    public async Task<long?> LengthAsync(string jobId, string name, CancellationToken cancellationToken)
    {
        try
        {
            return (await Container.GetBlobClient(BlobName(jobId, name)).GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ContentLength;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Deletes every blob under the job's prefix (orphans of an interrupted write too): 1 listing + 1 delete each.</summary>
    public async Task<int> DeleteAllAsync(string jobId, CancellationToken cancellationToken)
    {
        var deleted = 0;
        await foreach (var blob in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, Prefix(jobId), cancellationToken))
        {
            await Container.GetBlobClient(blob.Name).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken);
            deleted++;
        }
        return deleted;
    }

    /// <summary>The blob holding the artifact <paramref name="name"/> of the job.</summary>
    public static string BlobName(string jobId, string name) => Prefix(jobId) + name;

    private static string Prefix(string jobId) => jobId + "/";
}
