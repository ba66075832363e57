using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using static Jobs.IntegrationTests.Hostile.HostileSetup;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Malformed and oversized input on every route that reads it — bodies, headers, list and log cursors — from the owner of the jobs themselves: each is a problem naming what was wrong (or the
/// server's own refusal of a header block too large), and nothing stored changes. (<c>Api/BadInputTests</c> holds the
/// create body's field-by-field checks.)
/// </summary>
[Collection(HostileSuiteCollection.Name)]
public sealed class HostileInputTests(HostileSuiteRunnerFixture runner)
{
    /// <summary>Every route with a body; <c>{id}</c> is a draft of the caller's.</summary>
    private static readonly (string Method, string Path)[] BodyRoutes =
    [
        ("POST", "/api/jobs"),
        ("PATCH", "/api/jobs/{id}"),
        ("POST", "/api/jobs/{id}/submit"),
        ("POST", "/api/jobs/{id}/instance/raiseEvent/poke"),
    ];

    public static TheoryData<string, string> MalformedJson => new()
    {
        { "truncated", """{"input":{"steps":""" },
        { "trailing garbage", """{"input":{"steps":1}} {"x":1}""" },
        { "single quotes", """{'input':{'steps':1}}""" },
        { "comment", """{/* hi */"input":{"steps":1}}""" },
        { "not JSON at all", "<xml/>" },
        { "nested 5,000 deep", "{\"input\":" + new string('[', 5000) + new string(']', 5000) + "}" },
    };

    [Theory]
    [MemberData(nameof(MalformedJson))]
    public async Task MalformedJson_OnEveryBodyRoute_Is400_AndChangesNothing(string what, string body)
    {
        using var owner = runner.Client(NewUser("json"));
        var draft = await DraftAsync(owner);
        var before = await runner.QuietStateAsync();

        foreach (var (method, path) in BodyRoutes)
        {
            using var response = await owner.SendAsync(Request(method, path.Replace("{id}", draft, StringComparison.Ordinal), body));
            var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.False(string.IsNullOrEmpty(Field(problem)), $"{what} {method} {path}: {problem.ToJsonString()}");
        }
        await before.AssertUnchangedAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OversizedBody_OnEveryBodyRoute_Is413_WithOrWithoutAContentLength_AndChangesNothing(bool contentLength)
    {
        using var owner = runner.Client(NewUser("big"));
        var draft = await DraftAsync(owner);
        var before = await runner.QuietStateAsync();
        var body = $$"""{"correlationId":"{{new string('x', 70_000)}}"}""";

        foreach (var (method, path) in BodyRoutes)
        {
            using var request = Request(method, path.Replace("{id}", draft, StringComparison.Ordinal), body);
            if (!contentLength)
            {
                request.Content = new StreamContent(new NoLengthStream(Encoding.UTF8.GetBytes(body)));
                request.Content.Headers.ContentType = new("application/json");
            }
            using var response = await owner.SendAsync(request);
            var problem = await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
            Assert.Equal("The body must be at most 65536 bytes.", (string?)problem["detail"]);
        }
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task OversizedHeaders_AreRefusedBeforeTheApp_AndChangeNothing()
    {
        using var owner = runner.Client(NewUser("headers"));
        var draft = await DraftAsync(owner);
        var before = await runner.QuietStateAsync();

        // Past the server's limit on the header block (Kestrel's 32 KB, as under the Functions host): 431, no function runs.
        using (var request = Request("POST", $"/api/jobs/{draft}/cancel"))
        {
            request.Headers.Add("X-Padding", new string('p', 40_000));
            using var response = await owner.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        }
        // Within it, a header the app reads is held to the same limits as the field it fills.
        using (var request = Request("POST", "/api/jobs", """{"type":"demo.steps","input":{"steps":1}}"""))
        {
            request.Headers.Add("Idempotency-Key", new string('k', 5_000));
            using var response = await owner.SendAsync(request);
            Assert.Equal("idempotencyKey", Field(await ProblemAsync(response, HttpStatusCode.BadRequest)));
        }
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task ForgedListCursors_Are400NamingNext_AndAnotherUsersCursor_ShowsOnlyTheCallersOwn()
    {
        using var victim = runner.Client(NewUser("victim"));
        await DraftAsync(victim);
        await DraftAsync(victim);
        var page = JsonNode.Parse(await victim.GetStringAsync("/api/jobs?limit=1"))!;
        var cursor = (string)page["pagination"]!["next"]!;
        var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor)).Split('|');
        string Forge(params string[] p) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join('|', p)));
        using var attacker = runner.Client(NewUser("attacker"));
        var before = await runner.QuietStateAsync();

        var forged = new[]
        {
            "not-a-cursor",
            "%00%27",
            Forge("v2", parts[1], parts[2], parts[3], parts[4]),
            Forge(parts[0], "Type", parts[2], parts[3], parts[4]),
            Forge(parts[0], parts[1], "asc", parts[3], parts[4]),
            Forge(parts[0], parts[1], parts[2], "99", parts[4]),
            Forge(parts[0], parts[1], parts[2], parts[3], parts[4] + "' or ''='"),
            Forge(parts[0], parts[1], parts[2], parts[3], "zz-" + parts[4][3..]),
            Forge(parts[0], parts[1], parts[2], parts[3], parts[4], "extra"),
            new string('A', 4_000),
        };
        foreach (var next in forged)
        {
            using var response = await victim.GetAsync("/api/jobs?limit=1&next=" + Uri.EscapeDataString(next));
            Assert.Equal("next", Field(await ProblemAsync(response, HttpStatusCode.BadRequest)));
        }
        // A cursor is a position, never a scope: the victim's, replayed by someone else, pages the attacker's own jobs.
        var replayed = JsonNode.Parse(await attacker.GetStringAsync("/api/jobs?limit=1&next=" + Uri.EscapeDataString(cursor)))!;
        Assert.Empty(replayed["jobs"]!.AsArray());
        Assert.False((bool)replayed["pagination"]!["hasNext"]!);
        await before.AssertUnchangedAsync();
    }

    [Theory]
    [InlineData("zzz")]
    [InlineData("0000000000000000001-00000")]
    [InlineData("0000000000000000001-000000' or ''='")]
    [InlineData("../../0000000000000000001-000000")]
    public async Task ForgedLogCursors_Are400NamingAfter(string after)
    {
        using var owner = runner.Client(NewUser("logs"));
        var draft = await DraftAsync(owner);
        var before = await runner.QuietStateAsync();

        using var response = await owner.GetAsync($"/api/jobs/{draft}/logs?after={Uri.EscapeDataString(after)}");

        Assert.Equal("after", Field(await ProblemAsync(response, HttpStatusCode.BadRequest)));
        await before.AssertUnchangedAsync();
    }

    /// <summary>A body stream whose length is unknown, so the request goes out chunked, without a Content-Length.</summary>
    private sealed class NoLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
