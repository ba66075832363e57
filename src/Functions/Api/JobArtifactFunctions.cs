using Azure;
using Azure.Storage.Blobs.Models;
using Jobs.Functions.Artifacts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Net.Http.Headers;

namespace Jobs.Functions.Api;

/// <summary>A job's artifacts, as <c>GET /api/jobs/{id}/artifacts</c> lists them.</summary>
public sealed record JobArtifactList(string Id, IReadOnlyList<ArtifactInfo> Artifacts);

/// <summary>
/// <c>GET /api/jobs/{id}/artifacts</c> and <c>GET /api/jobs/{id}/artifacts/{name}</c>: a job's files and oversized
/// result, for whoever may read the job (its owner or an admin; 404 for anyone else, as for the job itself). A download
/// streams from Blob storage as the client reads it, with one byte range when asked (<c>Range: bytes=a-b</c>).
/// </summary>
public sealed class JobArtifactFunctions(ApiGuard guard, ArtifactStore artifacts)
{
    [Function(nameof(ListJobArtifacts))]
    public Task<IActionResult> ListJobArtifacts(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/artifacts")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            return ApiResult.Ok(new JobArtifactList(job.Id, await artifacts.ListAsync(job.Id, request.HttpContext.RequestAborted)));
        });

    [Function(nameof(GetJobArtifact))]
    public Task<IActionResult> GetJobArtifact(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/artifacts/{name}")] HttpRequest request, string id, string name) =>
        guard.RunAsync(request, [], async caller =>
        {
            if (ArtifactNames.Problem(name) is { } problem)
            {
                throw ApiProblemException.BadParameter("name", problem);
            }
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var range = RangeOf(request);
            BlobDownloadStreamingResult? download;
            try
            {
                download = await artifacts.OpenAsync(job.Id, name, range ?? default, request.HttpContext.RequestAborted);
            }
            catch (RequestFailedException e) when (e.Status == StatusCodes.Status416RangeNotSatisfiable)
            {
                // RFC 9110 §15.5.17: a 416 says the representation's length, as Content-Range: bytes */length. Blob
                // storage's own 416 carries it; where it does not (Azurite), one more request, on this path only.
                var length = e.GetRawResponse()?.Headers.TryGetValue("Content-Range", out var header) == true
                    && ArtifactStore.LengthOfUnsatisfiedRange(header) is { } named
                    ? named
                    : await artifacts.LengthAsync(job.Id, name, request.HttpContext.RequestAborted);
                var unsatisfied = Problems.Create(request, StatusCodes.Status416RangeNotSatisfiable, "Range not satisfiable",
                    $"The range asked for is outside artifact '{name}'{(length is { } l ? $" ({l} bytes)" : "")}.");
                return length is { } bytes ? unsatisfied.WithHeader("Content-Range", $"bytes */{bytes}") : unsatisfied;
            }
            return download is null
                ? throw ApiProblemException.NotFound($"Artifact '{name}' of job {job.Id}")
                : new ArtifactDownloadResult(download, name, partial: range is not null);
        });

    /// <summary>One <c>bytes=a-b</c> or <c>bytes=a-</c> range; anything else (several, a suffix) is served whole, as RFC 9110 allows.</summary>
    private static HttpRange? RangeOf(HttpRequest request)
    {
        var header = request.GetTypedHeaders().Range;
        if (header is null || !"bytes".Equals(header.Unit.Value, StringComparison.OrdinalIgnoreCase) || header.Ranges.Count != 1)
        {
            return null;
        }
        var only = header.Ranges.First();
        // bytes=0- is the whole artifact (and HttpRange(0) is "no range" to the SDK): served as a plain 200. An end of
        // long.MaxValue would overflow the length: it is "to the end", which the blob service clamps to anyway.
        return only.From is not { } from || (from == 0 && only.To is null or long.MaxValue) ? null
            : only.To is { } to && to != long.MaxValue ? new HttpRange(from, to - from + 1)
            : new HttpRange(from);
    }
}

/// <summary>Writes a blob download to the response as it reads it: never the whole artifact in memory.</summary>
internal sealed class ArtifactDownloadResult(BlobDownloadStreamingResult download, string name, bool partial) : IActionResult
{
    public async Task ExecuteResultAsync(ActionContext context)
    {
        using (download)
        {
            var response = context.HttpContext.Response;
            var details = download.Details;
            response.StatusCode = partial ? StatusCodes.Status206PartialContent : StatusCodes.Status200OK;
            response.ContentType = details.ContentType ?? "application/octet-stream";
            response.ContentLength = details.ContentLength;
            response.Headers[HeaderNames.AcceptRanges] = "bytes";
            // Names are letters, digits, '.', '_' and '-' only (ArtifactNames): safe in a quoted filename.
            response.Headers[HeaderNames.ContentDisposition] = $"attachment; filename=\"{name}\"";
            response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
            if (partial && details.ContentRange is { } contentRange)
            {
                response.Headers[HeaderNames.ContentRange] = contentRange;
            }
            if (details.ETag != default)
            {
                response.Headers[HeaderNames.ETag] = details.ETag.ToString("H");
            }
            await download.Content.CopyToAsync(response.Body, context.HttpContext.RequestAborted);
        }
    }
}
