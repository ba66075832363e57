using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs.Models;
using Jobs.Functions.Artifacts;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Artifacts;

/// <summary>Large results and files in Blob storage (Azurite), through the real runner and its HTTP API.</summary>
[Collection(ArtifactRunnerCollection.Name)]
public sealed class ArtifactTests(ArtifactRunnerFixture runner)
{
    private const int FiftyMegabytes = 50 * 1024 * 1024;

    [Fact]
    public async Task FiftyMegabyteResult_IsDownloadableByItsOwnerAndAdmins_NotByOthers_AndRetentionDeletesItsBlobs()
    {
        using var owner = runner.Client("big-" + Guid.NewGuid().ToString("N")[..8]);
        var id = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = LargeResultHandler.TypeName, input = new { chars = FiftyMegabytes } }))["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(owner, id, TimeSpan.FromSeconds(180));
        Assert.Equal("completed", (string?)end["status"]);

        var outcome = JsonNode.Parse(await owner.GetStringAsync($"/api/jobs/{id}/result"))!;
        Assert.Equal(ArtifactNames.Result, (string?)outcome["metadata"]![SpilledResult.MetadataKey]);
        var link = outcome["result"]!["artifact"]!;
        var href = (string)link["href"]!;
        Assert.Equal($"/api/jobs/{id}/artifacts/result.json", href);
        long expectedBytes = FiftyMegabytes + 2; // the JSON string's quotes
        Assert.Equal(expectedBytes, (long)link["bytes"]!);

        using (var download = await owner.GetAsync(href, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal("application/json", download.Content.Headers.ContentType?.MediaType);
            Assert.Equal(expectedBytes, download.Content.Headers.ContentLength);
            Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal("result.json", download.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
            await using var body = await download.Content.ReadAsStreamAsync();
            var (length, allX) = await ReadQuotedXsAsync(body);
            Assert.Equal((expectedBytes, true), (length, allX));
        }

        using (var admin = runner.Client("some-admin", "admin"))
        using (var byAdmin = await admin.GetAsync(href, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
        }
        using (var other = runner.Client("other-" + Guid.NewGuid().ToString("N")[..8]))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(href, HttpCompletionOption.ResponseHeadersRead)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/jobs/{id}/artifacts")).StatusCode);
        }
        using (var anonymous = runner.Client(null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(href, HttpCompletionOption.ResponseHeadersRead)).StatusCode);
        }

        Assert.NotEmpty(await BlobsOfAsync(id));
        await runner.RunRetentionAsync();
        Assert.Empty(await BlobsOfAsync(id));
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync(href, HttpCompletionOption.ResponseHeadersRead)).StatusCode);
    }

    [Fact]
    public async Task BulkDelete_DeletesTheJobsArtifactsWithIt()
    {
        using var owner = runner.Client("bulk-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await RunWriterAsync(owner, new { names = new[] { "a.txt", "b.txt" } });
        Assert.Equal(2, (await BlobsOfAsync(id)).Count);
        var bulk = (string)(await PostAsync(owner, "/api/jobs/bulk", new { action = "delete", ids = new[] { id } }))["id"]!;
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(owner, bulk))["status"]);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/api/jobs/{id}")).StatusCode);
        Assert.Empty(await BlobsOfAsync(id));
    }

    private static async Task<JsonNode> PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsync(path, System.Net.Http.Json.JsonContent.Create(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task ASmallResult_StaysInline_WithNoArtifact()
    {
        using var owner = runner.Client("small-" + Guid.NewGuid().ToString("N")[..8]);
        var id = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = LargeResultHandler.TypeName, input = new { chars = 100 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(owner, id);
        var outcome = JsonNode.Parse(await owner.GetStringAsync($"/api/jobs/{id}/result"))!;
        Assert.Equal(new string('x', 100), (string?)outcome["result"]);
        Assert.Null(outcome["metadata"]![SpilledResult.MetadataKey]);
        Assert.Empty(await BlobsOfAsync(id));
    }

    [Fact]
    public async Task Download_WithOneRange_Answers206WithThoseBytes()
    {
        using var owner = runner.Client("range-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await RunWriterAsync(owner, new { names = new[] { "report.txt" } });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/artifacts/report.txt");
        request.Headers.Range = new RangeHeaderValue(0, 9);
        using var response = await owner.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("report.txt", await response.Content.ReadAsStringAsync());
        Assert.Equal("bytes 0-9/25", response.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task Download_FromByteZeroToTheEnd_Answers200WithTheWholeArtifact_NotA206WithoutContentRange()
    {
        using var owner = runner.Client("range0-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await RunWriterAsync(owner, new { names = new[] { "report.txt" } });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/artifacts/report.txt");
        request.Headers.Range = new RangeHeaderValue(0, null);
        using var response = await owner.SendAsync(request);
        // bytes=0- is the whole artifact; Blob storage is asked for no range then and answers whole, without a
        // Content-Range, and a 206 must carry one (RFC 9110 15.3.7): the answer is a 200.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentRange);
        Assert.Equal("report.txt from attempt 1", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(0L, HttpStatusCode.OK, "report.txt from attempt 1", null)]
    [InlineData(7L, HttpStatusCode.PartialContent, "txt from attempt 1", "bytes 7-24/25")]
    public async Task Download_WithARangeEndingAtLongMaxValue_AnswersTheRestOfTheArtifact_NotAnError(
        long from, HttpStatusCode status, string body, string? contentRange)
    {
        using var owner = runner.Client("rangemax-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await RunWriterAsync(owner, new { names = new[] { "report.txt" } });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/artifacts/report.txt");
        request.Headers.TryAddWithoutValidation("Range", $"bytes={from}-{long.MaxValue}");
        using var response = await owner.SendAsync(request);
        Assert.Equal((status, body, contentRange),
            (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentRange?.ToString()));
    }

    [Theory]
    [InlineData("bytes=0-0", HttpStatusCode.PartialContent, "r", "bytes 0-0/25")]
    [InlineData("bytes=24-24", HttpStatusCode.PartialContent, "1", "bytes 24-24/25")]
    [InlineData("bytes=5-2", HttpStatusCode.OK, "report.txt from attempt 1", null)]
    [InlineData("bytes=-5", HttpStatusCode.OK, "report.txt from attempt 1", null)]
    [InlineData("bytes=0-1,3-4", HttpStatusCode.OK, "report.txt from attempt 1", null)]
    [InlineData("items=0-1", HttpStatusCode.OK, "report.txt from attempt 1", null)]
    public async Task Download_WithEdgeRanges_AnswersOneByte_OrTheWholeArtifactForRangesItDoesNotServe(
        string range, HttpStatusCode status, string body, string? contentRange)
    {
        using var owner = runner.Client("rangeedge-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await RunWriterAsync(owner, new { names = new[] { "report.txt" } });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/artifacts/report.txt");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await owner.SendAsync(request);
        Assert.Equal((status, body, contentRange),
            (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentRange?.ToString()));
    }

    [Fact]
    public async Task Download_WithARangeStartingPastTheEnd_Answers416()
    {
        using var owner = runner.Client("range416-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await RunWriterAsync(owner, new { names = new[] { "report.txt" } });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/artifacts/report.txt");
        // 26, not 25: Azurite (3.37) serves a range starting at the length as an empty 206 where Blob storage answers 416.
        request.Headers.Range = new RangeHeaderValue(26, null);
        using var response = await owner.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        // RFC 9110: the 416 names the length, so a client resuming a download knows where the artifact ends.
        Assert.Equal("bytes */25", response.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task ARetriedStep_RewritesItsArtifact_SoTheJobHasOneBlobWithTheLastAttemptsContent()
    {
        using var owner = runner.Client("retry-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await RunWriterAsync(owner, new { names = new[] { "report.txt" }, failFirstAttempt = true });
        var listed = JsonNode.Parse(await owner.GetStringAsync($"/api/jobs/{id}/artifacts"))!["artifacts"]!.AsArray();
        Assert.Equal(["report.txt"], listed.Select(a => (string)a!["name"]!));
        Assert.Equal("report.txt from attempt 2", await owner.GetStringAsync($"/api/jobs/{id}/artifacts/report.txt"));
        Assert.Equal(["report.txt"], await BlobsOfAsync(id));
        var result = JsonNode.Parse(await owner.GetStringAsync($"/api/jobs/{id}/result"))!["result"]!["artifacts"]![0]!;
        Assert.Equal(($"/api/jobs/{id}/artifacts/report.txt", 25L, "text/plain; charset=utf-8"),
            ((string)result["href"]!, (long)result["bytes"]!, (string)result["contentType"]!));
    }

    [Fact]
    public async Task AStepWritingMoreArtifactsThanTheCap_Fails_AndNoExtraBlobIsCommitted()
    {
        using var owner = runner.Client("many-" + Guid.NewGuid().ToString("N")[..8]);
        var id = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = ArtifactWriterHandler.TypeName, input = new { names = new[] { "a", "b", "c", "d" } } }))["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(owner, id);
        Assert.Equal("failed", (string?)end["status"]);
        Assert.Equal(["a", "b", "c"], await BlobsOfAsync(id));
    }

    [Theory]
    [InlineData(".hidden")]
    [InlineData("a..b")]
    [InlineData("-x")]
    [InlineData("a%5Cb")]
    [InlineData("a%20b")]
    public async Task Download_AnArtifactNameWithPathCharacters_IsAProblemNamingTheField(string name)
    {
        using var owner = runner.Client("names-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await RunWriterAsync(owner, new { names = new[] { "report.txt" } });
        using var response = await owner.GetAsync($"/api/jobs/{id}/artifacts/{name}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("name", (string?)problem["errors"]![0]!["field"]);
    }

    [Fact]
    public async Task Download_AMissingArtifactOfAVisibleJob_Is404()
    {
        using var owner = runner.Client("missing-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await RunWriterAsync(owner, new { names = new[] { "report.txt" } });
        using var response = await owner.GetAsync($"/api/jobs/{id}/artifacts/other.txt");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task TheClient_ListsAndDownloadsArtifacts_ToAStreamAndAFile_AndAnotherOwnerGets404()
    {
        var user = "client-" + Guid.NewGuid().ToString("N")[..8];
        using var owner = runner.Client(user);
        var id = await RunWriterAsync(owner, new { names = new[] { "a.txt", "b.txt" } });
        var client = new Jobs.Client.JobsClient(owner);

        var listed = await client.ListArtifactsAsync(id);
        Assert.Equal(["a.txt", "b.txt"], listed.Select(a => a.Name));
        Assert.Equal(20L, listed[0].Bytes);
        using var memory = new MemoryStream();
        Assert.Equal(20L, await client.DownloadArtifactAsync(id, "a.txt", memory));
        Assert.Equal("a.txt from attempt 1", System.Text.Encoding.UTF8.GetString(memory.ToArray()));
        var path = Path.Combine(Path.GetTempPath(), $"{user}-b.txt");
        try
        {
            Assert.Equal(20L, await client.DownloadArtifactToFileAsync(id, "b.txt", path));
            Assert.Equal("b.txt from attempt 1", await File.ReadAllTextAsync(path));
        }
        finally
        {
            File.Delete(path);
        }

        using var other = runner.Client("other-" + Guid.NewGuid().ToString("N")[..8]);
        var refused = await Assert.ThrowsAsync<Jobs.Client.JobNotFoundException>(() => new Jobs.Client.JobsClient(other).DownloadArtifactAsync(id, "a.txt", Stream.Null));
        Assert.Equal(HttpStatusCode.NotFound, refused.Status);
    }

    private static async Task<string> RunWriterAsync(HttpClient owner, object input)
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(owner, new { type = ArtifactWriterHandler.TypeName, input }))["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(owner, id);
        Assert.Equal("completed", (string?)end["status"]);
        return id;
    }

    private async Task<List<string>> BlobsOfAsync(string id)
    {
        var names = new List<string>();
        await foreach (var blob in runner.Storage.ArtifactContainer.GetBlobsAsync(BlobTraits.None, BlobStates.None, id + "/", CancellationToken.None))
        {
            names.Add(blob.Name[(id.Length + 1)..]);
        }
        return names;
    }

    /// <summary>Reads the whole body a buffer at a time: its length, and whether it is <c>"x…x"</c>.</summary>
    private static async Task<(long Length, bool AllX)> ReadQuotedXsAsync(Stream body)
    {
        var buffer = new byte[81920];
        long length = 0, xs = 0, quotes = 0;
        byte first = 0, last = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            if (length == 0)
            {
                first = buffer[0];
            }
            foreach (var b in buffer.AsSpan(0, read))
            {
                xs += b == 'x' ? 1 : 0;
                quotes += b == '"' ? 1 : 0;
            }
            last = buffer[read - 1];
            length += read;
        }
        return (length, first == '"' && last == '"' && quotes == 2 && xs == length - 2);
    }
}
