using System.Diagnostics;
using System.Text.Json.Nodes;
using Jobs.Client;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Client;

/// <summary>Webhooks through Jobs.Client (subscribe, verify a signature, the delivery log) and through <c>jobsctl webhooks</c>.</summary>
[Collection(WebhookRunnerCollection.Name)]
public sealed class WebhookClientTests(WebhookRunnerFixture runner) : IAsyncLifetime
{
    private readonly string _owner = "whc-" + Guid.NewGuid().ToString("N")[..8];
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task TheClientSubscribes_AndItsVerifierAcceptsARealDelivery_ButNotATamperedOrOldOne()
    {
        var client = new JobsClient(runner.Client(_owner));
        var hook = await client.SubscribeAsync(new CreateWebhookRequest(_receiver.UrlOf("client"), [WebhookEventNames.Completed]));
        Assert.NotNull(hook.Secret);
        await _receiver.ConfigureAsync("client", hook.Secret!);
        var job = await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 1 } });
        await client.WaitForCompletionAsync(job.Id);

        WebhookReceiver.Delivery? delivery = null;
        await Conditions.WaitUntilAsync(async () => (delivery = (await _receiver.ReceivedAsync("client")).FirstOrDefault()) is not null, "no delivery came");
        Assert.True(delivery!.Verified, delivery.Error); // standardwebhooks (npm) agrees with the service's signature

        Assert.True(WebhookSignature.Verify(hook.Secret!, delivery.Id, delivery.Timestamp, delivery.Signature, delivery.Body, out var reason), reason);
        Assert.False(WebhookSignature.Verify(hook.Secret!, delivery.Id, delivery.Timestamp, delivery.Signature, delivery.Body + " ", out reason));
        Assert.Equal("no signature matches", reason);
        Assert.False(WebhookSignature.Verify(hook.Secret!, delivery.Id, delivery.Timestamp, delivery.Signature, delivery.Body, out reason,
            now: DateTimeOffset.FromUnixTimeSeconds(long.Parse(delivery.Timestamp!, System.Globalization.CultureInfo.InvariantCulture)).AddMinutes(10)));
        Assert.Equal("the timestamp is too old", reason);

        WebhookDeliveryPage page = new([], null);
        await Conditions.WaitUntilAsync(async () => (page = await client.GetDeliveriesAsync(hook.Id)).Items.Any(d => d.State == WebhookDeliveryState.Delivered),
            "the log never showed the delivery");
        Assert.Equal((job.Id, 1, 200), (page.Items[0].JobId, page.Items[0].Attempts, page.Items[0].ResponseCode));
        Assert.Contains(await client.ListWebhooksAsync(), w => w.Id == hook.Id && w.Secret is null);

        await client.DeleteWebhookAsync(hook.Id);
        Assert.DoesNotContain(await client.ListWebhooksAsync(), w => w.Id == hook.Id);
        await Assert.ThrowsAsync<JobNotFoundException>(() => client.GetWebhookAsync(hook.Id));
    }

    [Fact]
    public async Task Jobsctl_Webhooks_AddListDeliveriesRm_AndARefusedUrlExits3NamingIt()
    {
        var added = await JobsctlAsync("webhooks", "add", _receiver.UrlOf("cli"), "--event", "job.completed,job.failed", "--json");
        Assert.True(added.Exit == 0, added.Out + added.Error);
        var hook = JsonNode.Parse(added.Out)!;
        var id = (string)hook["id"]!;
        Assert.StartsWith("whsec_", (string?)hook["secret"], StringComparison.Ordinal);
        Assert.Equal(["job.completed", "job.failed"], hook["events"]!.AsArray().Select(e => (string)e!));

        var listed = await JobsctlAsync("webhooks", "list");
        Assert.Equal(0, listed.Exit);
        Assert.Contains(id, listed.Out, StringComparison.Ordinal);

        var deliveries = await JobsctlAsync("webhooks", "deliveries", id);
        Assert.True(deliveries.Exit == 0, deliveries.Out + deliveries.Error);
        Assert.StartsWith("DELIVERY", deliveries.Out, StringComparison.Ordinal);

        var removed = await JobsctlAsync("webhooks", "rm", id);
        Assert.Equal((0, $"deleted {id}"), (removed.Exit, removed.Out.Trim()));
        Assert.DoesNotContain(id, (await JobsctlAsync("webhooks", "list")).Out, StringComparison.Ordinal);

        var refused = await JobsctlAsync("webhooks", "add", "http://example.com/hook", "--event", "job.completed");
        Assert.Equal(3, refused.Exit);
        Assert.Contains("url", refused.Error, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Out, string Error)> JobsctlAsync(params string[] args)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = Path.Combine(RepoPaths.Root, "src", "Cli", "bin", configuration, "net10.0", "jobsctl.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { dll, "--url", runner.BaseAddress.ToString(), "--user", _owner }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
