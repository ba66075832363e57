using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Testing;
using Json.Schema;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// <c>GET /api/openapi.json</c> against the build (every HTTP function of <c>functions.metadata</c>, nothing else),
/// against an OpenAPI validator (Microsoft.OpenApi's reader and rule set), and against real responses (each body
/// checked with a JSON Schema validator against the schema the document names for its status).
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class OpenApiTests(RunnerFixture runner)
{
    /// <summary>Routes the document leaves out: itself, and the dashboard's page and assets (HTML, not API).</summary>
    private static readonly string[] NotInTheDocument = ["GetOpenApiDocument", "Dashboard"];

    private readonly string _owner = "oa-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<JsonObject> DocumentAsync()
    {
        using var client = runner.Client(_owner);
        return JsonNode.Parse(await client.GetStringAsync("/api/openapi.json"))!.AsObject();
    }

    [Fact]
    public async Task TheDocument_ListsExactlyTheHttpRoutesOfTheBuild()
    {
        var document = await DocumentAsync();
        var documented = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(op => $"{op.Key.ToUpperInvariant()} {path.Key}"))
            .Order().ToList();
        var built = FunctionsMetadata.HttpRoutes().Where(f => !NotInTheDocument.Contains(f.Name))
            .SelectMany(f => f.Methods.Select(m => $"{m.ToUpperInvariant()} /{f.Route}"))
            .Order().ToList();
        Assert.Equal(built, documented);
        Assert.StartsWith(runner.BaseAddress.ToString().TrimEnd('/'), (string?)document["servers"]![0]!["url"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDocument_PassesAnOpenApiValidator()
    {
        var text = (await DocumentAsync()).ToJsonString();
        var settings = new OpenApiReaderSettings();
        var result = OpenApiDocument.Parse(text, OpenApiConstants.Json, settings);
        Assert.True(result.Diagnostic is null || result.Diagnostic.Errors.Count == 0,
            string.Join("\n", result.Diagnostic?.Errors.Select(e => $"{e.Pointer}: {e.Message}") ?? []));
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, result.Diagnostic!.SpecificationVersion);
        var parsed = result.Document!;
        var errors = parsed.Validate(ValidationRuleSet.GetDefaultRuleSet())?.ToList() ?? [];
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Pointer}: {e.Message}")));
        Assert.Equal(19, parsed.Paths.Sum(p => p.Value?.Operations?.Count ?? 0));
    }

    [Fact]
    public async Task RealResponses_MatchTheSchemasTheDocumentNames()
    {
        var document = await DocumentAsync();
        using var client = runner.Client(_owner);
        using var admin = runner.Client("oa-admin", "admin");
        var checkedOperations = new List<string>();

        async Task<JsonNode?> Check(HttpClient who, HttpMethod method, string url, string route, object? body = null)
        {
            using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await who.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var operation = document["paths"]![route]![method.Method.ToLowerInvariant()]!;
            var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var described = operation["responses"]![status];
            Assert.True(described is not null, $"{method} {route} answered {status}, which the document does not list: {text}");
            var content = described!["content"]?.AsObject();
            if (content is null)
            {
                Assert.True(text.Length == 0, $"{method} {route} {status} has a body the document does not describe: {text}");
                return null;
            }
            var (mediaType, media) = content.Single();
            Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
            var name = ((string)media!["schema"]!["$ref"]!)["#/components/schemas/".Length..];
            var schema = JsonSchema.FromText(document["components"]!["schemas"]![name]!.ToJsonString());
            var instance = JsonNode.Parse(text);
            using var parsed = System.Text.Json.JsonDocument.Parse(text);
            var result = schema.Evaluate(parsed.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"{method} {route} {status} does not match {name}: " +
                string.Join("; ", result.Details?.Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} {e.Key}: {e.Value}")) ?? []) + $"\n{text}");
            checkedOperations.Add($"{method} {route} {status}");
            return instance;
        }

        var created = (await Check(client, HttpMethod.Post, "/api/jobs", "/jobs",
            new { type = "demo.steps", input = new { steps = 1 }, correlationId = "oa", entity = new { type = "release", id = "oa-1" } }))!;
        var id = (string)created["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        await Check(client, HttpMethod.Get, $"/api/jobs/{id}", "/jobs/{id}");
        await Check(client, HttpMethod.Get, $"/api/jobs/{id}/status", "/jobs/{id}/status");
        await Check(client, HttpMethod.Get, $"/api/jobs/{id}/logs", "/jobs/{id}/logs");
        await Check(client, HttpMethod.Get, $"/api/jobs/{id}/result", "/jobs/{id}/result");
        await Check(client, HttpMethod.Get, "/api/jobs?limit=1", "/jobs");
        await Check(client, HttpMethod.Get, "/api/jobs/stats", "/jobs/stats");
        await Check(admin, HttpMethod.Get, "/api/jobs/stats", "/jobs/stats");
        await Check(client, HttpMethod.Get, "/api/job-types", "/job-types");
        await Check(client, HttpMethod.Get, "/api/entities/release/oa-1/jobs", "/entities/{type}/{id}/jobs");
        await Check(client, HttpMethod.Get, $"/api/jobs/{id}/instance", "/jobs/{id}/instance");
        await Check(client, HttpMethod.Post, $"/api/jobs/{id}/cancel", "/jobs/{id}/cancel"); // 409: ended
        await Check(client, HttpMethod.Get, $"/api/jobs/{Guid.NewGuid():N}", "/jobs/{id}"); // 404
        await Check(client, HttpMethod.Get, "/api/jobs?limit=0", "/jobs"); // 400
        await Check(client, HttpMethod.Delete, $"/api/jobs/{id}/instance", "/jobs/{id}/instance");

        var draft = (await Check(client, HttpMethod.Post, "/api/jobs", "/jobs", new { type = "demo.steps", draft = true }))!;
        var draftId = (string)draft["id"]!;
        await Check(client, HttpMethod.Patch, $"/api/jobs/{draftId}", "/jobs/{id}", new { input = new { steps = 2 } });
        await Check(client, HttpMethod.Post, $"/api/jobs/{draftId}/submit", "/jobs/{id}/submit");
        await Check(client, HttpMethod.Put, $"/api/jobs/{draftId}/cancel", "/jobs/{id}/cancel");

        using var anonymous = runner.Client(null);
        await Check(anonymous, HttpMethod.Get, "/api/health", "/health");

        Assert.True(checkedOperations.Count >= 19, string.Join(", ", checkedOperations));
    }
}
