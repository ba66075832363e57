using System.Net;
using System.Net.Http.Json;
using Jobs.Testing;
using static Jobs.IntegrationTests.Hostile.HostileSetup;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Subscriptions that would point the service at something it must not call, or that ask for what is not theirs: each
/// is a problem naming the field, and nothing is stored. This runner allows plain http to loopback (the local
/// development setting), and still refuses every private, link-local and metadata address. No request is sent to any
/// of them: the refusals come before any connection (and a delivery re-checks the address it connects to).
/// </summary>
[Collection(WebhookRunnerCollection.Name)]
public sealed class HostileWebhookTests(WebhookRunnerFixture runner)
{
    public static TheoryData<object, string> Refused => new()
    {
        { new { url = "http://example.com/hook", events = new[] { "job.completed" } }, "url" },
        { new { url = "https://10.1.2.3/hook", events = new[] { "job.completed" } }, "url" },
        { new { url = "https://192.168.0.10/hook", events = new[] { "job.completed" } }, "url" },
        { new { url = "https://169.254.169.254/latest/meta-data/", events = new[] { "job.completed" } }, "url" },
        { new { url = "http://169.254.169.254/", events = new[] { "job.completed" } }, "url" },
        { new { url = "https://168.63.129.16/", events = new[] { "job.completed" } }, "url" },
        { new { url = "https://[fd00:ec2::254]/", events = new[] { "job.completed" } }, "url" },
        { new { url = "https://[fe80::1]/", events = new[] { "job.completed" } }, "url" },
        { new { url = "https://[::ffff:10.0.0.1]/", events = new[] { "job.completed" } }, "url" },
        { new { url = "https://167772161/", events = new[] { "job.completed" } }, "url" },
        { new { url = "https://user:pass@example.com/hook", events = new[] { "job.completed" } }, "url" },
        { new { url = "hook", events = new[] { "job.completed" } }, "url" },
        { new { url = "ftp://example.com/hook", events = new[] { "job.completed" } }, "url" },
        { new { events = new[] { "job.completed" } }, "url" },
        { new { url = "https://example.com/hook", events = new[] { "job.completed", "job.exploded" } }, "events[1]" },
        { new { url = "https://example.com/hook", events = Array.Empty<string>() }, "events" },
        { new { url = "https://example.com/hook", events = new[] { "job.failed" }, jobTypes = new[] { "no.such.type" } }, "jobTypes[0]" },
        { new { url = "https://example.com/hook", events = new[] { "job.failed" }, owner = "someone-else" }, "owner" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task ASubscriptionTheServiceMustNotCreate_Is400NamingTheField_AndNothingIsStored(object body, string field)
    {
        using var owner = runner.Client(NewUser("hook"));
        var before = await QuietState.CaptureAsync(runner);

        using var response = await owner.PostAsJsonAsync("/api/webhooks", body);
        await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, field);

        await before.AssertUnchangedAsync();
    }

    [Theory]
    [InlineData("GET", "/api/webhooks/not-an-id", "id")]
    [InlineData("DELETE", "/api/webhooks/..%2F..%2Fjobs", "id")]
    [InlineData("GET", "/api/webhooks/0123456789abcdef0123456789abcdef/deliveries?after=x'%20or%20'1", "after")]
    [InlineData("GET", "/api/webhooks/0123456789abcdef0123456789abcdef/deliveries?limit=100000", "limit")]
    [InlineData("GET", "/api/webhooks/0123456789abcdef0123456789abcdef/deliveries?since=1", "since")]
    [InlineData("POST", "/api/webhooks/0123456789abcdef0123456789abcdef/deliveries/x'%20or%20'1/retry", "deliveryId")]
    public async Task ForgedIdsCursorsAndLimits_OnTheWebhookRoutes_Are400NamingThem_AndChangeNothing(string method, string path, string field)
    {
        using var owner = runner.Client(NewUser("forged"));
        var before = await QuietState.CaptureAsync(runner);

        using var response = await owner.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, field);

        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task AllJobs_FromSomeoneWhoIsNotAnAdmin_Is403NamingAllJobs_AndNothingIsStored()
    {
        using var owner = runner.Client(NewUser("scope"));
        var before = await QuietState.CaptureAsync(runner);

        using var response = await owner.PostAsJsonAsync("/api/webhooks", new { url = "http://127.0.0.1:9/hook", events = new[] { "job.completed" }, allJobs = true });
        await ProblemAssert.IsAsync(response, HttpStatusCode.Forbidden, "allJobs");

        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task OneSubscriptionMoreThanTheCap_Is409NamingWebhooks_AndNothingIsStored()
    {
        using var owner = runner.Client(NewUser("cap"));
        for (var i = 0; i < WebhookRunnerFixture.MaxPerOwner; i++)
        {
            using var created = await owner.PostAsJsonAsync("/api/webhooks", new { url = $"http://127.0.0.1:9/hook/{i}", events = new[] { "job.completed" } });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var before = await QuietState.CaptureAsync(runner);

        using var response = await owner.PostAsJsonAsync("/api/webhooks", new { url = "http://127.0.0.1:9/hook/more", events = new[] { "job.completed" } });
        await ProblemAssert.IsAsync(response, HttpStatusCode.Conflict, "webhooks");

        await before.AssertUnchangedAsync();
        var listed = await owner.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>("/api/webhooks");
        Assert.Equal(WebhookRunnerFixture.MaxPerOwner, listed!["items"]!.AsArray().Count);
        Assert.All(listed["items"]!.AsArray(), s => Assert.Null(s!["secret"])); // shown once, at creation
    }
}

/// <summary>With the default settings (no loopback allowed), a webhook to this machine is refused like any private address.</summary>
[Collection(HostileSuiteCollection.Name)]
public sealed class HostileWebhookLoopbackTests(HostileSuiteRunnerFixture runner)
{
    [Theory]
    [InlineData("https://127.0.0.1:8443/hook")]
    [InlineData("https://localhost/hook")]
    [InlineData("https://[::1]/hook")]
    [InlineData("http://localhost:7071/hook")]
    public async Task ALoopbackUrl_IsRefusedByDefault_NamingUrl_AndNothingIsStored(string url)
    {
        using var owner = runner.Client(NewUser("loop"));
        var before = await runner.QuietStateAsync();

        using var response = await owner.PostAsJsonAsync("/api/webhooks", new { url, events = new[] { "job.completed" } });
        await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, "url");

        await before.AssertUnchangedAsync();
    }
}
