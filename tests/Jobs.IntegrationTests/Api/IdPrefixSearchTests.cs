using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.IntegrationTests.Hostile;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary><c>GET /api/jobs?idPrefix=</c>: the search box's id-prefix reading, scoped as listing is; a malformed one refused.</summary>
[Collection(RunnerCollection.Name)]
public sealed class IdPrefixSearchTests(RunnerFixture runner)
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task AnIdPrefix_FindsTheCallersJobsStartingWithIt_AndNoOneElses()
    {
        using var client = runner.Client("prefix-" + _run);
        using var other = runner.Client("prefix-other-" + _run);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await DraftAsync(client, new { type = "demo.steps", draft = true, tags = new[] { "t" } }));
        }
        var theirs = await DraftAsync(other, new { type = "demo.steps", draft = true });

        foreach (var id in ids)
        {
            var page = JsonNode.Parse(await client.GetStringAsync($"/api/jobs?idPrefix={id[..12].ToUpperInvariant()}"))!;
            var row = page["jobs"]!.AsArray().Single()!;
            Assert.Equal((id, "draft", "t"), ((string)row["id"]!, (string)row["status"]!, (string)row["tags"]![0]!));
            Assert.False((bool)page["pagination"]!["hasNext"]!);
        }
        var whole = JsonNode.Parse(await client.GetStringAsync($"/api/jobs?idPrefix={theirs[..31]}"))!;
        Assert.Empty(whole["jobs"]!.AsArray());
        using var admin = runner.Client("prefix-admin-" + _run, "admin");
        var all = JsonNode.Parse(await admin.GetStringAsync($"/api/jobs?idPrefix={theirs[..31]}"))!;
        Assert.Equal(theirs, (string)all["jobs"]!.AsArray().Single()!["id"]!);
    }

    private static async Task<string> DraftAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/jobs", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return (string)JsonNode.Parse(text)!["id"]!;
    }

}
