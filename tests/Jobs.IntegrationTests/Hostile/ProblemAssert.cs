using System.Net;
using System.Text.Json.Nodes;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>The one shape every refusal of the hostile suite must have: the status, problem+json, and the field it names.</summary>
internal static class ProblemAssert
{
    public static async Task<JsonNode> IsAsync(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} instead of {(int)status}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!;
        Assert.Equal((int)status, (int)problem["status"]!);
        var fields = problem["errors"]?.AsArray().Select(e => (string?)e!["field"]).ToList() ?? [];
        Assert.True(fields.Contains(field), $"the problem names {string.Join(", ", fields)} instead of {field}: {text}");
        return problem;
    }
}
