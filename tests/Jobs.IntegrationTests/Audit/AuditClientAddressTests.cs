using System.Net;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Audit;

/// <summary>
/// With the test client's address (127.0.0.1) a trusted proxy, the audit trail's client address is the last hop the
/// proxy added to <c>X-Forwarded-For</c> (or <c>Forwarded: for=</c>), not the proxy's own address.
/// </summary>
[Collection(TrustedProxyRunnerCollection.Name)]
public sealed class AuditClientAddressTests(TrustedProxyRunnerFixture runner)
{
    private readonly string _owner = "audp-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task XForwardedFor_FromATrustedProxy_IsTheClientAddress_ItsLastHop()
    {
        using var client = runner.Client(_owner);
        // The first hop is whatever the client claimed; the last is the one the trusted proxy itself saw and added.
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.1, 203.0.113.9");

        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;

        AuditTrail.ByUser(AuditTrail.Single(await AuditTrail.EntriesAsync(client, id), "created"), _owner, clientAddress: "203.0.113.9");
        await RunnerFixture.WaitForEndAsync(client, id);
    }

    [Fact]
    public async Task ForwardedFor_FromATrustedProxy_IsTheClientAddress_WithoutItsPort()
    {
        using var client = runner.Client(_owner);
        client.DefaultRequestHeaders.Add("Forwarded", "for=\"[2001:db8::7]:4711\"");
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);

        using var cancel = await client.PostAsync($"/api/jobs/{id}/cancel", null);

        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        AuditTrail.ByUser(Assert.Single(await AuditTrail.EntriesAsync(client, id)), _owner, clientAddress: "2001:db8::7");
    }
}
