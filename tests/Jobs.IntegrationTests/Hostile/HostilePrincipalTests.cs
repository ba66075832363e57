using System.Net;
using System.Text;
using Jobs.Functions.Identity;
using Jobs.Testing;
using static Jobs.IntegrationTests.Hostile.HostileSetup;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Forged <c>x-ms-client-principal</c> headers: garbage is a 401 on every kind of route, before anything is read or
/// written; and where the header is not trusted (no App Service Authentication), a well-formed one claiming the admin
/// role is no identity at all.
/// </summary>
[Collection(HostileSuiteCollection.Name)]
public sealed class HostilePrincipalTests(HostileSuiteRunnerFixture runner)
{
    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public static TheoryData<string, string> Garbage => new()
    {
        { "%%%not-base64", "The x-ms-client-principal header is not base64-encoded principal JSON." },
        { Base64("not json"), "The x-ms-client-principal header is not base64-encoded principal JSON." },
        { Base64("""{"claims":"admin"}"""), "The x-ms-client-principal header is not base64-encoded principal JSON." },
        { Base64(new string('[', 2000) + new string(']', 2000)), "The x-ms-client-principal header is not base64-encoded principal JSON." },
        { Convert.ToBase64String([0xC3, 0x28, 0xFF]), "The x-ms-client-principal header is not base64-encoded principal JSON." },
        { Base64("null"), "The x-ms-client-principal header names no usable user id." },
        { Base64("""{"claims":[]}"""), "The x-ms-client-principal header names no usable user id." },
        { Base64("""{"claims":[{"typ":"roles","val":"admin"}]}"""), "The x-ms-client-principal header names no usable user id." },
        { Base64("""{"claims":[{"typ":"sub","val":"eve\u0000admin"}]}"""), "The x-ms-client-principal header names no usable user id." },
        { Base64($$"""{"claims":[{"typ":"sub","val":"{{new string('e', 300)}}"}]}"""), "The x-ms-client-principal header names no usable user id." },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task GarbagePrincipal_Is401WithTheReason_OnReadsAndWrites_AndChangesNothing(string header, string reason)
    {
        using var victim = runner.Client(NewUser("victim"));
        var draft = await DraftAsync(victim);
        using var forged = new HttpClient { BaseAddress = runner.BaseAddress };
        forged.DefaultRequestHeaders.TryAddWithoutValidation(CallerResolver.PrincipalHeader, header);
        var before = await runner.QuietStateAsync();

        foreach (var (method, path, body) in new (string, string, string?)[]
        {
            ("POST", "/api/jobs", """{"type":"demo.steps","input":{"steps":1}}"""),
            ("POST", $"/api/jobs/{draft}/cancel", null),
            ("PATCH", $"/api/jobs/{draft}", """{"input":{"steps":2}}"""),
            ("GET", $"/api/jobs/{draft}", null),
            ("GET", "/api/jobs", null),
        })
        {
            using var response = await forged.SendAsync(Request(method, path, body));
            var problem = await ProblemAsync(response, HttpStatusCode.Unauthorized);
            Assert.Equal(reason, (string?)problem["detail"]);
        }
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task ForgedAdminPrincipal_WhereTheHeaderIsNotTrusted_IsNoIdentity_401_AndChangesNothing()
    {
        // A deployment without App Service Authentication: nothing strips the header, so the app must not read it.
        var untrusting = new CustomRunner(("Jobs:Identity:TrustClientPrincipal", "false"));
        await untrusting.InitializeAsync();
        try
        {
            using var forged = untrusting.Client("eve", "admin");
            var before = await QuietState.CaptureAsync(untrusting);

            foreach (var (method, path, body) in new (string, string, string?)[]
            {
                ("POST", "/api/jobs", """{"type":"demo.steps","input":{"steps":1}}"""),
                ("GET", "/api/jobs", null),
                ("GET", "/api/jobs/stats", null),
            })
            {
                using var response = await forged.SendAsync(Request(method, path, body));
                var problem = await ProblemAsync(response, HttpStatusCode.Unauthorized);
                Assert.Equal("This endpoint needs a signed-in caller.", (string?)problem["detail"]);
            }
            await before.AssertUnchangedAsync();
        }
        finally
        {
            await untrusting.DisposeAsync();
        }
    }
}
