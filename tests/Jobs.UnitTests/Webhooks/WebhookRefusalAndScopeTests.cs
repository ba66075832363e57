using System.Net;
using Jobs.Functions.Webhooks;

namespace Jobs.UnitTests.Webhooks;

/// <summary>
/// Review of issue 27: a refusal says what kind of address was refused, never which (an internal name's resolution is
/// not the caller's to learn); an all-jobs subscription's scope lapses with its admin's confirmation.
/// </summary>
public sealed class WebhookRefusalAndScopeTests
{
    [Theory]
    [InlineData("10.1.2.3", "a private address")]
    [InlineData("172.20.0.1", "a private address")]
    [InlineData("fd12::1", "a private address")]
    [InlineData("127.0.0.2", "a loopback address")]
    [InlineData("::1", "a loopback address")]
    [InlineData("169.254.10.10", "a link-local address")]
    [InlineData("fe80::1", "a link-local address")]
    [InlineData("169.254.169.254", "a cloud metadata address")]
    [InlineData("168.63.129.16", "a cloud metadata address")]
    [InlineData("fd00:ec2::254", "a cloud metadata address")]
    [InlineData("::ffff:10.1.2.3", "a private address")]
    public void ARefusal_NamesTheCategory_NotTheAddress(string address, string category)
    {
        var refusal = WebhookAddressGuard.Refusal(IPAddress.Parse(address), allowLoopback: false);

        Assert.Equal(category, refusal);
    }

    [Fact]
    public async Task ANameResolvingToARefusedAddress_IsRefusedAtCreation_WithoutTheAddress()
    {
        var refusal = await WebhookAddressGuard.CheckResolvedAsync(new Uri("https://localhost/hook"), allowLoopback: false, CancellationToken.None);

        Assert.Equal("is not allowed: localhost resolves to a loopback address", refusal);
    }

    [Fact]
    public async Task ANameResolvingToARefusedAddress_IsRefusedAtDelivery_WithoutTheAddress()
    {
        var refused = await Assert.ThrowsAsync<WebhookAddressRefusedException>(async () =>
            await WebhookHttp.ConnectAsync(new DnsEndPoint("localhost", 9), allowLoopback: false, CancellationToken.None));

        Assert.Equal("refused to connect to localhost: it resolves to a loopback address", refused.Message);
    }

    [Fact]
    public void AnAllJobsSubscription_ReceivesOtherOwnersJobs_OnlyUntilItsScopeLapses()
    {
        var now = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
        var subscription = new WebhookSubscription
        {
            Id = "0123456789abcdef0123456789abcdef", Owner = "admin-1", Url = "https://example.com/hook", Events = [WebhookEvents.Completed],
            AllJobs = true, AllJobsUntil = now.AddDays(30), CreatedAt = now, Secret = "whsec_x",
        };

        Assert.True(subscription.Wants(WebhookEvents.Completed, "someone-else", "demo.steps", now.AddDays(29)));
        Assert.False(subscription.Wants(WebhookEvents.Completed, "someone-else", "demo.steps", now.AddDays(31)));
        Assert.True(subscription.Wants(WebhookEvents.Completed, "admin-1", "demo.steps", now.AddDays(31))); // its own jobs, as any subscription
        Assert.False((subscription with { AllJobsUntil = null }).Wants(WebhookEvents.Completed, "someone-else", "demo.steps", now));
    }
}
