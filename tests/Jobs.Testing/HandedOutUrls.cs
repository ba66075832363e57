using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Jobs.Testing;

/// <summary>Collects every URL the API hands out to one client, each named by where it came from.</summary>
public static class HandedOutUrls
{
    /// <summary>
    /// Creates a draft, a job and (for an admin) the native management URLs, submits the draft, reads its running
    /// instance, cancels it and lists with a page of one: management URLs, <c>Location</c> headers and <c>nextLink</c>.
    /// </summary>
    public static async Task<IReadOnlyList<(string What, string Url)>> CollectAsync(HttpClient client, bool admin = false)
    {
        var urls = new List<(string, string)>();
        void Links(string what, JsonNode body)
        {
            foreach (var name in new[] { "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri" })
            {
                urls.Add(($"{what} {name}", (string)body[name]!));
            }
        }

        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } });
        Links("create", created);
        if (admin)
        {
            Links("create nativeManagementUrls", created["nativeManagementUrls"]!);
        }

        using var draftResponse = await client.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", input = new { steps = 1, delayMs = 4000 }, draft = true });
        Assert.Equal(HttpStatusCode.Created, draftResponse.StatusCode);
        var id = (string)JsonNode.Parse(await draftResponse.Content.ReadAsStringAsync())!["id"]!;
        urls.Add(("create draft Location", draftResponse.Headers.Location!.ToString()));

        using var submitted = await client.PostAsync($"/api/jobs/{id}/submit", null);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        urls.Add(("submit Location", submitted.Headers.Location!.ToString()));
        Links("submit", JsonNode.Parse(await submitted.Content.ReadAsStringAsync())!);

        using var instance = await client.GetAsync($"/api/jobs/{id}/instance");
        Assert.Equal(HttpStatusCode.Accepted, instance.StatusCode);
        urls.Add(("running instance Location", instance.Headers.Location!.ToString()));

        using var cancelled = await client.PostAsync($"/api/jobs/{id}/cancel", null);
        Assert.True(cancelled.IsSuccessStatusCode, $"cancel: {(int)cancelled.StatusCode}");
        Links("cancel", JsonNode.Parse(await cancelled.Content.ReadAsStringAsync())!);

        var list = JsonNode.Parse(await client.GetStringAsync("/api/jobs?limit=1"))!;
        urls.Add(("list nextLink", (string)list["pagination"]!["nextLink"]!));

        await RunnerFixture.WaitForEndAsync(client, id);
        return urls;
    }

    /// <summary>A client of <paramref name="runner"/> that claims, through every forwarding header, another scheme and host.</summary>
    public static HttpClient ForwardingClient(RunnerFixture runner, string user, string proto, string host, params string[] roles)
    {
        var client = runner.Client(user, roles);
        client.DefaultRequestHeaders.Add("X-Forwarded-Proto", proto);
        client.DefaultRequestHeaders.Add("X-Forwarded-Host", host);
        client.DefaultRequestHeaders.Add("Forwarded", $"for=192.0.2.60;proto={proto};host={host}");
        return client;
    }
}
