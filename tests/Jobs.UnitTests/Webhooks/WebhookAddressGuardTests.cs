using System.Net;
using System.Net.Sockets;
using Jobs.Functions.Model;
using Jobs.Functions.Webhooks;

namespace Jobs.UnitTests.Webhooks;

/// <summary>Where webhooks may go, judged on URLs and on the addresses connected to. Nothing here sends a request.</summary>
public sealed class WebhookAddressGuardTests
{
    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.5.4")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.100.100.200")]
    [InlineData("168.63.129.16")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("fd00:ec2::254")]
    [InlineData("fe80::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a00:1")]
    [InlineData("2002:a00:1::1")]
    public void PrivateLinkLocalMetadataAndReservedAddresses_AreRefused_EvenWhereLoopbackIsAllowed(string address)
    {
        Assert.NotNull(WebhookAddressGuard.Refusal(IPAddress.Parse(address), allowLoopback: true));
        Assert.NotNull(WebhookAddressGuard.Refusal(IPAddress.Parse(address), allowLoopback: false));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.1.2.3")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public void Loopback_IsRefused_UnlessAllowed(string address)
    {
        Assert.NotNull(WebhookAddressGuard.Refusal(IPAddress.Parse(address), allowLoopback: false));
        Assert.Null(WebhookAddressGuard.Refusal(IPAddress.Parse(address), allowLoopback: true));
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:4700::1111")]
    public void PublicAddresses_AreAllowed(string address) =>
        Assert.Null(WebhookAddressGuard.Refusal(IPAddress.Parse(address), allowLoopback: false));

    [Theory]
    [InlineData("https://hooks.example.com/jobs", false)]
    [InlineData("https://93.184.215.14:8443/x?y=1", false)]
    [InlineData("http://127.0.0.1:5000/hook", true)]
    [InlineData("http://localhost:5000/hook", true)]
    [InlineData("https://[::1]:5000/hook", true)]
    public void Urls_TheServiceMayCall_PassTheWrittenCheck(string url, bool allowLoopback)
    {
        Assert.Null(WebhookAddressGuard.CheckUrl(url, allowLoopback, out var parsed));
        Assert.NotNull(parsed);
    }

    [Theory]
    [InlineData("http://hooks.example.com/jobs", true)]
    [InlineData("http://hooks.example.com/jobs", false)]
    [InlineData("http://127.0.0.1:5000/hook", false)]
    [InlineData("https://127.0.0.1:5000/hook", false)]
    [InlineData("https://localhost/hook", false)]
    [InlineData("https://10.0.0.1/hook", true)]
    [InlineData("https://169.254.169.254/", true)]
    [InlineData("https://[fe80::1]/", true)]
    [InlineData("https://0x7f000001/", false)]
    [InlineData("https://user:secret@hooks.example.com/", false)]
    [InlineData("https://hooks.example.com/#fragment", false)]
    [InlineData("file:///etc/passwd", true)]
    [InlineData("/relative", true)]
    [InlineData("", true)]
    public void Urls_TheServiceMustNotCall_AreRefusedAsWritten(string url, bool allowLoopback) =>
        Assert.NotNull(WebhookAddressGuard.CheckUrl(url, allowLoopback, out _));

    [Fact]
    public async Task TheConnectCallback_RefusesALoopbackAddress_BeforeConnecting()
    {
        // A listener on loopback that must see no connection: the refusal happens before the socket connects.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var refused = await Assert.ThrowsAsync<WebhookAddressRefusedException>(async () =>
            await WebhookHttp.ConnectAsync(new DnsEndPoint("127.0.0.1", port), allowLoopback: false, CancellationToken.None));
        Assert.Contains("loopback", refused.Message, StringComparison.Ordinal);
        Assert.False(listener.Pending());

        // The same callback connects where loopback is allowed (the local development setting): the check is what refused.
        await using var stream = await WebhookHttp.ConnectAsync(new DnsEndPoint("127.0.0.1", port), allowLoopback: true, CancellationToken.None);
        using var accepted = await listener.AcceptTcpClientAsync();
        Assert.True(accepted.Connected);
    }

    [Fact]
    public async Task TheConnectCallback_RefusesANameThatResolvesToLoopback()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        await Assert.ThrowsAsync<WebhookAddressRefusedException>(async () =>
            await WebhookHttp.ConnectAsync(new DnsEndPoint("localhost", port), allowLoopback: false, CancellationToken.None));
        Assert.False(listener.Pending());
    }

    [Theory]
    [InlineData(JobStatus.Running, "job.started")]
    [InlineData(JobStatus.Completed, "job.completed")]
    [InlineData(JobStatus.Failed, "job.failed")]
    [InlineData(JobStatus.Cancelled, "job.cancelled")]
    [InlineData(JobStatus.TimedOut, "job.timed_out")]
    [InlineData(JobStatus.Pending, null)]
    [InlineData(JobStatus.Draft, null)]
    public void EachStatusChange_IsTheEventItsNameSays(JobStatus to, string? expected) =>
        Assert.Equal(expected, WebhookEvents.Of(JobStatus.Pending, to));

    [Theory]
    [InlineData(JobStatus.Pending, JobStatus.Waiting, "job.started")] // its first step to run asks a decision
    [InlineData(JobStatus.Queued, JobStatus.Waiting, "job.started")]
    [InlineData(JobStatus.Queued, JobStatus.Running, "job.started")]
    [InlineData(JobStatus.Running, JobStatus.Waiting, null)]
    [InlineData(JobStatus.Waiting, JobStatus.Running, null)] // answered: the same start goes on
    [InlineData(JobStatus.Running, JobStatus.Running, null)]
    [InlineData(JobStatus.Waiting, JobStatus.Completed, "job.completed")]
    public void AJobStartsOnce_AtTheFirstOfRunningOrWaiting(JobStatus from, JobStatus to, string? expected) =>
        Assert.Equal(expected, WebhookEvents.Of(from, to));

    [Fact]
    public void TheDefaultRetrySchedule_AddsUpToAboutADay()
    {
        var total = new WebhookOptions().Backoff().Aggregate(TimeSpan.Zero, (sum, wait) => sum + wait);
        Assert.InRange(total, TimeSpan.FromHours(23), TimeSpan.FromHours(25));
    }
}
