using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Audit;

/// <summary>Reads a job's audit trail over HTTP, and its partition's rows as stored, for the audit tests.</summary>
internal static class AuditTrail
{
    public static async Task<List<JsonObject>> EntriesAsync(HttpClient client, string id)
    {
        var page = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/audit?limit=1000"))!.AsObject();
        Assert.False((bool)page["hasMore"]!);
        return [.. page["entries"]!.AsArray().Select(e => e!.AsObject())];
    }

    /// <summary>The one entry of <paramref name="action"/> (asserting there is exactly one).</summary>
    public static JsonObject Single(IEnumerable<JsonObject> entries, string action) => Assert.Single(entries, e => (string?)e["action"] == action);

    /// <summary>Asserts the entry names <paramref name="user"/> as App Service Authentication signed them in (Principals: name user@example.test, provider aad).</summary>
    public static void ByUser(JsonObject entry, string user, string? clientAddress = "127.0.0.1")
    {
        var actor = entry["actor"]!;
        Assert.Equal("user", (string?)actor["kind"]);
        Assert.Equal(user, (string?)actor["id"]);
        Assert.Equal(user + "@example.test", (string?)actor["name"]);
        Assert.Equal("aad", (string?)actor["identityProvider"]);
        Assert.Equal(clientAddress, (string?)actor["clientAddress"]);
    }

    public static void Between(JsonObject entry, DateTimeOffset from, DateTimeOffset to)
    {
        var at = DateTimeOffset.Parse((string)entry["at"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(at, from, to);
    }

    /// <summary>Every row of the job's partition, by RowKey, with its ETag: what "nothing stored changed" compares.</summary>
    public static async Task<Dictionary<string, string>> PartitionAsync(TableClient table, string id)
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {id}")))
        {
            rows[row.RowKey] = row.ETag.ToString();
        }
        return rows;
    }

    public static async Task<JsonObject> CreateDraftAsync(HttpClient client, object input)
    {
        using var response = await client.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", input, draft = true });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }
}
