using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>What the hostile tests share: the victim's jobs to attack, raw requests, and the exact problem expected.</summary>
internal static class HostileSetup
{
    public static string NewUser(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A draft of the client's caller (it stays as it is until someone acts on it).</summary>
    public static async Task<string> DraftAsync(HttpClient client)
    {
        using var created = await client.PostAsync("/api/jobs", Json("""{"type":"demo.steps","draft":true,"input":{"steps":1}}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
    }

    /// <summary>A job of the client's caller that has ended, orchestration included (nothing about it moves any more).</summary>
    public static async Task<string> CompletedJobAsync(HttpClient client, object? entity = null)
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 }, entity }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        await RunnerFixture.WaitForRuntimeStatusAsync(client, $"/api/jobs/{id}/instance", "Completed");
        return id;
    }

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public static HttpRequestMessage Request(string method, string path, string? body = null, string? contentType = "application/json")
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = contentType is null ? null : new MediaTypeHeaderValue(contentType);
        }
        return request;
    }

    /// <summary>Asserts the answer is a problem+json of <paramref name="expected"/> and returns its body.</summary>
    public static async Task<JsonNode> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!;
        Assert.Equal((int)expected, (int)problem["status"]!);
        return problem;
    }

    /// <summary>The one field a 400 names.</summary>
    public static string? Field(JsonNode problem) => (string?)problem["errors"]?.AsArray().Single()!["field"];
}
