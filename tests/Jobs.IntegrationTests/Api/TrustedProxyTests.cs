using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>With the test client's address (127.0.0.1) configured as a trusted proxy, its forwarding headers decide the URLs.</summary>
[Collection(TrustedProxyRunnerCollection.Name)]
public sealed class TrustedProxyTests(TrustedProxyRunnerFixture runner)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ForwardingHeaders_FromATrustedProxy_ShapeEveryLinkAndLocation(bool admin)
    {
        using var client = HandedOutUrls.ForwardingClient(runner, "proxied-" + Guid.NewGuid().ToString("N")[..8], "https", "jobs.example.test",
            admin ? ["admin"] : []);

        var urls = await HandedOutUrls.CollectAsync(client, admin);

        Assert.All(urls, u => Assert.True(u.Url.StartsWith("https://jobs.example.test/", StringComparison.Ordinal), $"{u.What}: {u.Url}"));
        Assert.Contains(urls, u => u.What == "running instance Location");
    }

    [Fact]
    public async Task ForwardedHeader_Alone_FromATrustedProxy_ShapesTheLinks()
    {
        using var client = runner.Client("rfc7239-" + Guid.NewGuid().ToString("N")[..8]);
        client.DefaultRequestHeaders.Add("Forwarded", "for=192.0.2.60;proto=https;host=\"jobs.example.test:8443\"");

        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } });

        Assert.StartsWith("https://jobs.example.test:8443/api/jobs/", (string)created["statusQueryGetUri"]!, StringComparison.Ordinal);
        await RunnerFixture.WaitForEndAsync(client, (string)created["id"]!);
    }

    [Fact]
    public async Task NoForwardingHeaders_FromATrustedProxy_LinksUseTheRealHost()
    {
        using var client = runner.Client("direct-" + Guid.NewGuid().ToString("N")[..8]);

        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } });

        Assert.StartsWith(runner.BaseAddress.GetLeftPart(UriPartial.Authority) + "/api/jobs/", (string)created["statusQueryGetUri"]!, StringComparison.Ordinal);
        await RunnerFixture.WaitForEndAsync(client, (string)created["id"]!);
    }
}
