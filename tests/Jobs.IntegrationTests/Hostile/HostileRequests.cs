using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>Requests the hostile suite sends to set a case up.</summary>
internal static class HostileRequests
{
    /// <summary>Creates a draft (its body gets <c>draft: true</c>) and returns its id, asserting 201. A draft writes nothing after its creation.</summary>
    public static async Task<string> CreateDraftAsync(HttpClient client, object body)
    {
        var json = JsonSerializer.SerializeToNode(body)!.AsObject();
        json["draft"] = true;
        using var response = await client.PostAsJsonAsync("/api/jobs", json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    /// <summary>JSON as written, UTF-8, without the serializer's escaping of non-ASCII characters.</summary>
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
