using System.Net;
using System.Text.Json.Nodes;
using Jobs.Testing;
using static Jobs.IntegrationTests.Hostile.HostileSetup;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Issue 25, item 3 (cross-site requests): what a hostile page could make a signed-in user's browser send — a state
/// change from another site, or a body that is not JSON (a form or <c>text/plain</c> needs no CORS preflight) — is
/// refused before anything runs, and changes nothing stored. The app's own pages, an allowed origin and clients that are
/// no browser keep working.
/// </summary>
[Collection(HostileSuiteCollection.Name)]
public sealed class HostileCrossSiteTests(HostileSuiteRunnerFixture runner)
{
    private const string EvilOrigin = "https://evil.example";

    /// <summary>Every route that changes state; <c>{id}</c> is a draft of the victim's.</summary>
    public static TheoryData<string, string, string?> StateChangingRoutes => new()
    {
        { "POST", "/api/jobs", """{"type":"demo.steps","input":{"steps":1}}""" },
        { "PATCH", "/api/jobs/{id}", """{"input":{"steps":2}}""" },
        { "POST", "/api/jobs/{id}/submit", null },
        { "POST", "/api/jobs/{id}/cancel", null },
        { "PUT", "/api/jobs/{id}/cancel", null },
        { "POST", "/api/jobs/{id}/instance/terminate?reason=csrf", null },
        { "POST", "/api/jobs/{id}/instance/raiseEvent/poke", "{}" },
        { "DELETE", "/api/jobs/{id}/instance", null },
    };

    [Theory]
    [MemberData(nameof(StateChangingRoutes))]
    public async Task StateChange_FromAnotherSitesPage_Is403NamingTheOrigin_AndChangesNothing(string method, string path, string? body)
    {
        using var victim = runner.Client("csrf-" + Guid.NewGuid().ToString("N")[..8]);
        var draft = await DraftAsync(victim);
        var before = await runner.QuietStateAsync();

        using var request = Request(method, path.Replace("{id}", draft, StringComparison.Ordinal), body, "application/json");
        request.Headers.Add("Sec-Fetch-Site", "cross-site");
        request.Headers.Add("Origin", EvilOrigin);
        using var response = await victim.SendAsync(request);

        var problem = await ProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("Cross-site request refused", (string?)problem["title"]);
        Assert.Contains("Origin: " + EvilOrigin, (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Equal("Origin", (string?)problem["errors"]![0]!["field"]);
        await before.AssertUnchangedAsync();
    }

    [Theory]
    [InlineData(EvilOrigin)]
    [InlineData("null")]
    public async Task StateChange_WithAForeignOrigin_AndNoFetchMetadata_Is403_AndChangesNothing(string origin)
    {
        // Browsers send no Sec-Fetch-Site to a plain-http site other than localhost, but always an Origin on a POST.
        using var victim = runner.Client("csrf-origin-" + Guid.NewGuid().ToString("N")[..8]);
        var draft = await DraftAsync(victim);
        var before = await runner.QuietStateAsync();

        foreach (var (method, path) in new[] { ("POST", $"/api/jobs/{draft}/cancel"), ("POST", $"/api/jobs/{draft}/submit") })
        {
            using var request = Request(method, path, null, null);
            request.Headers.Add("Origin", origin);
            using var response = await victim.SendAsync(request);
            await ProblemAsync(response, HttpStatusCode.Forbidden);
        }
        await before.AssertUnchangedAsync();
    }

    [Theory]
    [InlineData("POST", "/api/jobs", """{"type":"demo.steps","input":{"steps":1}}""", null)]
    [InlineData("POST", "/api/jobs", """{"type":"demo.steps","input":{"steps":1}}""", "text/plain")]
    [InlineData("POST", "/api/jobs", "type=demo.steps", "application/x-www-form-urlencoded")]
    [InlineData("PATCH", "/api/jobs/{id}", """{"input":{"steps":2}}""", null)]
    [InlineData("POST", "/api/jobs/{id}/submit", """{"notBefore":null}""", "text/plain")]
    [InlineData("POST", "/api/jobs/{id}/cancel", "{}", "text/plain")]
    public async Task StateChange_WithABodyThatIsNotJson_Is415NamingContentType_AndChangesNothing(string method, string path, string body, string? contentType)
    {
        using var owner = runner.Client("ctype-" + Guid.NewGuid().ToString("N")[..8]);
        var draft = await DraftAsync(owner);
        var before = await runner.QuietStateAsync();

        using var request = Request(method, path.Replace("{id}", draft, StringComparison.Ordinal), body, contentType);
        using var response = await owner.SendAsync(request);

        var problem = await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        var error = problem["errors"]![0]!;
        Assert.Equal("Content-Type", (string?)error["field"]);
        Assert.Equal(contentType is null ? "is required for a request with a body: application/json" : $"must be application/json, not {contentType}",
            (string?)error["message"]);
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task TheAppsOwnPages_AnAllowedOrigin_AndClientsThatAreNoBrowser_Still_ChangeState()
    {
        using var owner = runner.Client("same-" + Guid.NewGuid().ToString("N")[..8]);
        var ownOrigin = runner.BaseAddress.GetLeftPart(UriPartial.Authority);
        var senders = new (string What, (string Name, string Value)[] Headers)[]
        {
            ("the app's page (fetch metadata)", [("Sec-Fetch-Site", "same-origin"), ("Origin", ownOrigin)]),
            ("the app's page (Origin only)", [("Origin", ownOrigin)]),
            ("an allowed site's page", [("Sec-Fetch-Site", "cross-site"), ("Origin", HostileSuiteRunnerFixture.AllowedOrigin)]),
            ("a client that is no browser", []),
        };
        foreach (var (what, headers) in senders)
        {
            var draft = await DraftAsync(owner);
            using var request = Request("POST", $"/api/jobs/{draft}/cancel", null, null);
            foreach (var (name, value) in headers)
            {
                request.Headers.Add(name, value);
            }
            using var response = await owner.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("cancelled", (string?)JsonNode.Parse(await owner.GetStringAsync($"/api/jobs/{draft}/status"))!["status"]);
        }
    }
}
