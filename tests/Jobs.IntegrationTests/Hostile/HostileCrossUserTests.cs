using System.Net;
using System.Text.Json.Nodes;
using static Jobs.IntegrationTests.Hostile.HostileSetup;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Another signed-in user against every route of a victim's jobs (a draft, which any change would move, and an ended
/// job): each answer is the same 404 a job that does not exist gets — no oracle of which ids are taken — or the
/// attacker's own empty scope, and nothing stored changes. (<c>Identity/AuthorizationMatrixTests</c> holds the whole
/// permission matrix; this is the attacker's side of it, with storage checked.)
/// </summary>
[Collection(HostileSuiteCollection.Name)]
public sealed class HostileCrossUserTests(HostileSuiteRunnerFixture runner)
{
    /// <summary>Every route that names a job; <c>{id}</c> is the victim's.</summary>
    private static readonly (string Method, string Path, string? Body)[] JobRoutes =
    [
        ("GET", "/api/jobs/{id}", null),
        ("GET", "/api/jobs/{id}/status", null),
        ("GET", "/api/jobs/{id}/logs", null),
        ("GET", "/api/jobs/{id}/audit", null),
        ("GET", "/api/jobs/{id}/result", null),
        ("GET", "/api/jobs/{id}/events", null),
        ("GET", "/api/jobs/{id}/instance", null),
        ("GET", "/api/jobs/{id}/instance?showHistory=true&showHistoryOutput=true", null),
        ("PATCH", "/api/jobs/{id}", """{"input":{"steps":3},"correlationId":"pwned"}"""),
        ("POST", "/api/jobs/{id}/submit", null),
        ("POST", "/api/jobs/{id}/cancel", null),
        ("PUT", "/api/jobs/{id}/cancel", null),
        ("POST", "/api/jobs/{id}/instance/terminate?reason=pwned", null),
        ("POST", "/api/jobs/{id}/instance/raiseEvent/poke", """{"x":1}"""),
        ("DELETE", "/api/jobs/{id}/instance", null),
    ];

    [Fact]
    public async Task AnotherUser_OnEveryRouteOfAVictimsJobs_Gets404AsForNoJob_AndChangesNothing()
    {
        using var victim = runner.Client(NewUser("victim"));
        var draft = await DraftAsync(victim);
        var ended = await CompletedJobAsync(victim);
        using var attacker = runner.Client(NewUser("attacker"));
        var before = await runner.QuietStateAsync();

        var missing = Guid.NewGuid().ToString("N");
        foreach (var target in new[] { draft, ended })
        {
            foreach (var (method, path, body) in JobRoutes)
            {
                using var response = await attacker.SendAsync(Request(method, path.Replace("{id}", target, StringComparison.Ordinal), body));
                var problem = await ProblemAsync(response, HttpStatusCode.NotFound);
                using var forNoJob = await attacker.SendAsync(Request(method, path.Replace("{id}", missing, StringComparison.Ordinal), body));
                var noJob = await ProblemAsync(forNoJob, HttpStatusCode.NotFound);
                Assert.Equal($"Job {target} does not exist or is not yours.", (string?)problem["detail"]);
                Assert.Equal(((string?)noJob["detail"])!.Replace(missing, target, StringComparison.Ordinal), (string?)problem["detail"]);
            }
        }
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task AnotherUser_ListingOrCountingTheVictims_Is403_OrSeesOnlyTheirOwn_AndChangesNothing()
    {
        var victimId = NewUser("victim");
        using var victim = runner.Client(victimId);
        var entity = NewUser("release");
        var ended = await CompletedJobAsync(victim, new { type = "release", id = entity });
        using var attacker = runner.Client(NewUser("attacker"));
        var before = await runner.QuietStateAsync();

        foreach (var path in new[] { $"/api/jobs?owner={victimId}", $"/api/jobs/stats?owner={victimId}" })
        {
            using var response = await attacker.GetAsync(path);
            await ProblemAsync(response, HttpStatusCode.Forbidden);
        }
        foreach (var path in new[] { $"/api/entities/release/{entity}/jobs", $"/api/jobs?entityType=release&entityId={entity}", "/api/jobs" })
        {
            var text = await attacker.GetStringAsync(path);
            Assert.Empty(JsonNode.Parse(text)!["jobs"]!.AsArray());
            Assert.DoesNotContain(ended, text, StringComparison.Ordinal);
        }
        var stats = JsonNode.Parse(await attacker.GetStringAsync("/api/jobs/stats"))!;
        Assert.Equal(0, (long)stats["total"]!);
        await before.AssertUnchangedAsync();
    }
}
