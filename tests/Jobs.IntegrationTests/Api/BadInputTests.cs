using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>Every kind of bad request ends in a clear problem naming what was wrong, and writes nothing.</summary>
[Collection(RunnerCollection.Name)]
public sealed class BadInputTests(RunnerFixture runner)
{
    public static TheoryData<string, string?, HttpStatusCode, string> BadCreates => new()
    {
        { """{"type":""", "application/json", HttpStatusCode.BadRequest, "body" },
        { "", "application/json", HttpStatusCode.BadRequest, "body" },
        { "[1,2,3]", "application/json", HttpStatusCode.BadRequest, "body" },
        { """{"type":5}""", "application/json", HttpStatusCode.BadRequest, "type" },
        { """{"type":"demo.steps","correlationId":{}}""", "application/json", HttpStatusCode.BadRequest, "correlationId" },
        { """{"type":"demo.steps","draft":"yes"}""", "application/json", HttpStatusCode.BadRequest, "draft" },
        { """{"input":{}}""", "application/json", HttpStatusCode.BadRequest, "type" },
        { """{"type":"no.such.type"}""", "application/json", HttpStatusCode.BadRequest, "type" },
        { """{"type":"demo.steps","input":{"steps":0}}""", "application/json", HttpStatusCode.BadRequest, "input.steps" },
        { """{"type":"demo.steps","input":"five steps"}""", "application/json", HttpStatusCode.BadRequest, "input" },
        { """{"type":"demo.steps","input":{"steps":2,"turbo":true}}""", "application/json", HttpStatusCode.BadRequest, "input.turbo" },
        { """{"type":"demo.steps","unknownField":1}""", "application/json", HttpStatusCode.BadRequest, "unknownField" },
        { """{"type":"demo.steps","priority":10}""", "application/json", HttpStatusCode.BadRequest, "priority" },
        { """{"type":"demo.steps","priority":-1}""", "application/json", HttpStatusCode.BadRequest, "priority" },
        { $$"""{"type":"demo.limited","concurrencyKey":"{{new string('k', 129)}}"}""", "application/json", HttpStatusCode.BadRequest, "concurrencyKey" },
        { """{"type":"demo.steps","owner":"someone-else"}""", "application/json", HttpStatusCode.BadRequest, "owner" },
        { """{"type":"demo.steps","entity":{"type":"release"}}""", "application/json", HttpStatusCode.BadRequest, "entity.id" },
        { """{"type":"demo.steps","entity":{"type":"release","id":"a\u0001b"}}""", "application/json", HttpStatusCode.BadRequest, "entity.id" },
        { """{"type":"demo.steps","correlationId":"line\nbreak"}""", "application/json", HttpStatusCode.BadRequest, "correlationId" },
        { """{"type":"demo.steps","idempotencyKey":"   "}""", "application/json", HttpStatusCode.BadRequest, "idempotencyKey" },
        { """{"type":"demo.steps","idempotencyKey":"queue:0f8fad5b-d9cb-469f-a165-70867728950e"}""", "application/json", HttpStatusCode.BadRequest, "idempotencyKey" },
        { """{"type":"demo.steps"}""", "text/plain", HttpStatusCode.UnsupportedMediaType, "" },
    };

    [Theory]
    [MemberData(nameof(BadCreates))]
    public async Task BadCreate_IsAProblemNamingTheField_AndWritesNothing(string body, string? contentType, HttpStatusCode status, string field)
    {
        var owner = "bad-" + Guid.NewGuid().ToString("N")[..8];
        using var client = runner.Client(owner);
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = contentType is null ? null : new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        using var response = await client.PostAsync("/api/jobs", content);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var problem = JsonNode.Parse(text)!;
        Assert.Equal((int)status, (int)problem["status"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["title"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]));
        if (field.Length > 0)
        {
            Assert.Contains(problem["errors"]!.AsArray(), e => (string?)e!["field"] == field);
        }
        // Never an internal type name, a stack trace or a storage message.
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Jobs.Functions", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
        Assert.Empty(JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!["jobs"]!.AsArray());
    }

    [Fact]
    public async Task UnknownType_ListsTheValidOnes()
    {
        using var client = runner.Client("bad-type");
        using var response = await client.PostAsync("/api/jobs", Json("""{"type":"nope"}"""));
        var detail = (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"];
        Assert.Contains("demo.steps", detail, StringComparison.Ordinal);
        Assert.Contains("jobs.export-csv", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedBody_Is413_WithTheLimit()
    {
        using var client = runner.Client("bad-size");
        var huge = new string('x', 70_000);
        using var response = await client.PostAsync("/api/jobs", Json($$"""{"type":"demo.steps","correlationId":"{{huge}}"}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("65536 bytes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Under the body limit but over what one job's input may hold: a 400 on input.
        var bigInput = new string('y', 40_000);
        using var tooBigInput = await client.PostAsync("/api/jobs", Json("{\"type\":\"demo.steps\",\"input\":{\"note\":\"" + bigInput + "\"}}"));
        Assert.Equal(HttpStatusCode.BadRequest, tooBigInput.StatusCode);
        Assert.Contains("32768 bytes", await tooBigInput.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyForbiddenCharacters_InValuesThatBecomeKeys_AreStoredSafely()
    {
        var owner = "we/ird#own?er\\" + Guid.NewGuid().ToString("N")[..6];
        using var client = runner.Client(owner);
        const string entityId = "a/b#c?d\\e";
        const string key = "key/with#odd?chars\\";
        var body = "{\"type\":\"demo.steps\",\"input\":{\"steps\":1},\"entity\":{\"type\":\"re/lease\",\"id\":\"" + entityId.Replace("\\", "\\\\", StringComparison.Ordinal) + "\"}}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = Json(body) };
        request.Headers.Add("Idempotency-Key", key);
        using var created = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;

        var listed = JsonNode.Parse(await client.GetStringAsync($"/api/jobs?entityType={Uri.EscapeDataString("re/lease")}&entityId={Uri.EscapeDataString(entityId)}"))!;
        Assert.Equal(id, (string?)listed["jobs"]![0]!["id"]);
        Assert.Equal(id, (string?)JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!["jobs"]![0]!["id"]);
        // The same request again (a key reused with another body is a 422: HostileIdempotencyTests).
        using var again = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = Json(body) };
        again.Headers.Add("Idempotency-Key", key);
        using var repeat = await client.SendAsync(again);
        Assert.Equal(id, (string?)JsonNode.Parse(await repeat.Content.ReadAsStringAsync())!["id"]);
    }

    [Theory]
    [InlineData("type=demo.steps' or 'a' eq 'a")]
    [InlineData("type=x') or (PartitionKey ne '")]
    [InlineData("status=completed&type=' or 1 eq 1 or '")]
    public async Task QuoteLadenFilters_AreRefusedAsUnknownTypes_OrMatchNothing_InsteadOfChangingTheQuery(string query)
    {
        using var client = runner.Client("quotes-" + Guid.NewGuid().ToString("N")[..6]);
        await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } });
        // A type filter takes known type names only (issue 25), so these never reach a storage filter.
        using var refused = await client.GetAsync("/api/jobs?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("type", (string?)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["errors"]![0]!["field"]);

        using var admin = runner.Client("quotes-admin", "admin");
        var adminPage = JsonNode.Parse(await admin.GetStringAsync("/api/jobs?owner=" + Uri.EscapeDataString("x' or Owner ne '")))!;
        Assert.Empty(adminPage["jobs"]!.AsArray());
    }

    // Wrong methods and unknown routes are the host's empty 404s, not the app's problems: see HttpRoutingTests.
    [Theory]
    [InlineData("GET", "/api/jobs/0123456789abcdef0123456789abcdef?verbose=1", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/jobs/NOT-AN-ID", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/jobs/0123456789abcdef0123456789abcdef/logs?after=zzz", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/jobs/0123456789abcdef0123456789abcdef/logs?limit=1000000", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/jobs/0123456789abcdef0123456789abcdef/audit?after=zzz", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/jobs/0123456789abcdef0123456789abcdef/audit?limit=0", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/jobs/0123456789abcdef0123456789abcdef/audit?verbose=1", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/jobs/0123456789abcdef0123456789abcdef/instance?showHistory=maybe", HttpStatusCode.BadRequest)]
    public async Task WrongParameters_AreProblems(string method, string path, HttpStatusCode expected)
    {
        using var client = runner.Client("bad-route");
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
