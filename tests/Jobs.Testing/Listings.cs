using System.Text.Json.Nodes;

namespace Jobs.Testing;

/// <summary>Walks of the API's listings.</summary>
public static class Listings
{
    /// <summary>Every job a listing returns, following <c>nextLink</c> from <paramref name="url"/> to the last page.</summary>
    public static async Task<List<JsonNode>> WalkAsync(HttpClient client, string url)
    {
        var jobs = new List<JsonNode>();
        for (string? next = url; next is not null;)
        {
            var page = JsonNode.Parse(await client.GetStringAsync(next))!;
            jobs.AddRange(page["jobs"]!.AsArray().Select(j => j!));
            next = (string?)page["pagination"]!["nextLink"];
        }
        return jobs;
    }
}
