using System.Net;
using System.Net.Sockets;
using System.Text;
using Jobs.Client;
using Jobs.Functions.Webhooks;
using Microsoft.Extensions.Options;

namespace Jobs.UnitTests.Webhooks;

/// <summary>Second reader's findings on issue 27: a receiver's fault never escapes a try; a forged header never throws.</summary>
public sealed class WebhookReviewTests
{
    [Fact]
    public async Task AReceiverThatClosesMidBody_IsATriedAttempt_NotAnException()
    {
        // A receiver (loopback only) that answers 200 with Content-Length 100, sends 5 bytes and closes: reading the
        // body fails with an IOException, which must be recorded as the try's outcome. Thrown, the dispatcher never
        // writes the try: attempts stay where they were and the sweep resends the event every minute, for ever.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[8192];
            var seen = new StringBuilder();
            while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer);
                if (read == 0)
                {
                    return;
                }
                seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"));
            await stream.FlushAsync();
            client.Client.Shutdown(SocketShutdown.Both);
        });

        using var http = new WebhookHttp(Options.Create(new WebhookOptions { AllowLoopbackHttp = true }));
        var result = await http.PostAsync(new Uri($"http://127.0.0.1:{port}/hook"), Encoding.UTF8.GetBytes("{}"), JobCloudEvents.ContentType, [], CancellationToken.None);
        await server;

        Assert.Equal(200, result.StatusCode);
        Assert.True(result.Succeeded);
        Assert.StartsWith("short", result.Response, StringComparison.Ordinal);
        Assert.Contains("ended early", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("99999999999999")]
    [InlineData("9223372036854775807")]
    public void AForgedTimestampOutOfRange_IsRefused_NotThrown(string timestamp)
    {
        var secret = "whsec_" + Convert.ToBase64String(new byte[32]);
        Assert.False(WebhookSignature.Verify(secret, "msg_1", timestamp, "v1,AAAA", "{}", out var reason));
        Assert.NotNull(reason);
    }

    [Theory]
    [InlineData("::169.254.169.254")]
    [InlineData("::10.0.0.1")]
    [InlineData("::127.0.0.1")]
    [InlineData("::ffff:0:127.0.0.1")]
    [InlineData("64:ff9b:1::a9fe:a9fe")]
    public void IPv4CompatibleTranslatedAndLocalNat64_AreRefused(string address) =>
        Assert.NotNull(WebhookAddressGuard.Refusal(IPAddress.Parse(address), allowLoopback: false));
}
