using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Identity;

/// <summary>Owner, another user, an admin and an anonymous caller against every endpoint.</summary>
[Collection(RunnerCollection.Name)]
public sealed class AuthorizationMatrixTests(RunnerFixture runner)
{
    private enum Who
    {
        Anonymous,
        Other,
        Owner,
        Admin,
    }

    /// <summary>One endpoint; <c>{id}</c> is the job. <c>Allowed</c> is what the owner and admins get.</summary>
    private sealed record Row(string Method, string Path, string? Body, HttpStatusCode Allowed, bool JobSpecific = true);

    private static readonly Row[] Rows =
    [
        new("GET", "/api/jobs/{id}", null, HttpStatusCode.OK),
        new("GET", "/api/jobs/{id}/status", null, HttpStatusCode.OK),
        new("GET", "/api/jobs/{id}/logs", null, HttpStatusCode.OK),
        new("GET", "/api/jobs/{id}/audit", null, HttpStatusCode.OK),
        new("GET", "/api/jobs/{id}/result", null, HttpStatusCode.OK),
        new("GET", "/api/jobs/{id}/instance", null, HttpStatusCode.OK),
        // demo.steps waits for no event, so its owner is refused the name (404, as others are refused the job).
        new("POST", "/api/jobs/{id}/instance/raiseEvent/poke", "{}", HttpStatusCode.NotFound),
        new("POST", "/api/jobs/{id}/instance/terminate?reason=x", null, HttpStatusCode.Gone),
        new("POST", "/api/jobs/{id}/cancel", null, HttpStatusCode.Conflict),
        new("PUT", "/api/jobs/{id}/cancel", null, HttpStatusCode.Conflict),
        new("PATCH", "/api/jobs/{id}", """{"input":{"steps":2}}""", HttpStatusCode.Conflict),
        new("POST", "/api/jobs/{id}/submit", null, HttpStatusCode.Conflict),
        new("DELETE", "/api/jobs/{id}/instance", null, HttpStatusCode.OK),
        new("GET", "/api/jobs", null, HttpStatusCode.OK, JobSpecific: false),
        new("GET", "/api/entities/matrix/{id}/jobs", null, HttpStatusCode.OK, JobSpecific: false),
        new("GET", "/api/job-types", null, HttpStatusCode.OK, JobSpecific: false),
        new("POST", "/api/jobs", """{"type":"demo.steps","input":{"steps":1}}""", HttpStatusCode.Accepted, JobSpecific: false),
    ];

    [Fact]
    public async Task EveryEndpoint_AnswersEachKindOfCaller_AsThePermissionsSay()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var owner = "mx-owner-" + tag;
        using var ownerClient = runner.Client(owner);
        // Owner and admin each act on a job of the owner's (purge is destructive), both ended.
        var forOwner = await CompletedJobAsync(ownerClient, tag);
        var forAdmin = await CompletedJobAsync(ownerClient, tag);

        var failures = new List<string>();
        foreach (var who in new[] { Who.Anonymous, Who.Other, Who.Owner, Who.Admin })
        {
            using var client = who switch
            {
                Who.Anonymous => runner.Client(null),
                Who.Other => runner.Client("mx-other-" + tag),
                Who.Owner => runner.Client(owner),
                _ => runner.Client("mx-admin-" + tag, "admin"),
            };
            var id = who == Who.Admin ? forAdmin : forOwner;
            foreach (var row in Rows)
            {
                var path = row.Path.Replace("{id}", row.JobSpecific ? id : tag, StringComparison.Ordinal);
                using var request = new HttpRequestMessage(new HttpMethod(row.Method), path);
                if (row.Body is not null)
                {
                    request.Content = new StringContent(row.Body, Encoding.UTF8, "application/json");
                }
                using var response = await client.SendAsync(request);
                var expected = who switch
                {
                    Who.Anonymous => HttpStatusCode.Unauthorized,
                    Who.Other when row.JobSpecific => HttpStatusCode.NotFound,
                    _ => row.Allowed,
                };
                if (response.StatusCode != expected)
                {
                    failures.Add($"{who} {row.Method} {row.Path}: expected {(int)expected}, got {(int)response.StatusCode}");
                }
                if ((int)response.StatusCode >= 400)
                {
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                }
                if (who == Who.Other && row.Path == "/api/jobs")
                {
                    Assert.DoesNotContain(forOwner, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                }
            }
        }
        Assert.Empty(failures);
        // Nobody but the owner and the admin changed anything: both jobs are still completed.
        Assert.Equal("completed", (string?)JsonNode.Parse(await ownerClient.GetStringAsync($"/api/jobs/{forOwner}/status"))!["status"]);
        Assert.Equal("completed", (string?)JsonNode.Parse(await ownerClient.GetStringAsync($"/api/jobs/{forAdmin}/status"))!["status"]);
    }

    [Fact]
    public async Task AnUnreadablePrincipal_Is401()
    {
        using var client = new HttpClient { BaseAddress = runner.BaseAddress };
        client.DefaultRequestHeaders.Add(Jobs.Functions.Identity.CallerResolver.PrincipalHeader, "%%%not-base64");
        using var response = await client.GetAsync("/api/jobs");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static async Task<string> CompletedJobAsync(HttpClient client, string tag)
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 }, entity = new { type = "matrix", id = tag } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        // Wait for the orchestration itself to end too, so instance calls answer as for an ended job.
        await RunnerFixture.WaitForRuntimeStatusAsync(client, $"/api/jobs/{id}/instance", "Completed");
        return id;
    }
}
