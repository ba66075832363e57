using Jobs.LocalRunner.Configuration;
using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// Start-up problems a person can fix, seen as they would see them: the runner as a child process, its exit code and
/// what it printed. Each names the setting (or endpoint) to look at, prints no stack trace and no secret, and exits at
/// once instead of retrying for half a minute.
/// </summary>
public sealed class StartupErrorTests
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(60);

    /// <summary>The Azurite account key with its last character dropped: still plausible, no longer valid base64.</summary>
    private const string MistypedKeyConnection =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMG==;" +
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;";

    private static void AssertShortAndStackless(string output)
    {
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
        Assert.True(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 3, output);
    }

    [Fact]
    public async Task MistypedAccountKey_ExitsWithInvalidSetting_NamingTheSetting_WithoutTheKey()
    {
        using var runner = new RunnerProcess(_ => { }, new Dictionary<string, string> { ["AzureWebJobsStorage"] = MistypedKeyConnection });

        var exitCode = await runner.RunUntilExitAsync(ExitWithin);

        Assert.Equal(StartupException.InvalidSetting, exitCode);
        Assert.Contains("The setting 'AzureWebJobsStorage' is not a valid storage connection string", runner.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Eby8vdM02x", runner.Output, StringComparison.Ordinal);
        AssertShortAndStackless(runner.Output);
    }

    [Fact]
    public async Task AzuriteNotRunning_ExitsWithStorageUnreachable_NamingTheEndpoint_AndSayingToStartAzurite()
    {
        int blob = TestStorage.FreePort(), queue = TestStorage.FreePort(), table = TestStorage.FreePort();
        using var runner = new RunnerProcess(_ => { }, new Dictionary<string, string> { ["AzureWebJobsStorage"] = TestStorage.ConnectionStringFor(blob, queue, table) });

        var exitCode = await runner.RunUntilExitAsync(ExitWithin);

        Assert.Equal(StartupException.StorageUnreachable, exitCode);
        Assert.Contains($"nothing answers at 127.0.0.1:{blob}, the blob endpoint http://127.0.0.1:{blob}/devstoreaccount1 of 'AzureWebJobsStorage'", runner.Output, StringComparison.Ordinal);
        Assert.Contains("Azurite is not running: start it", runner.Output, StringComparison.Ordinal);
        Assert.Contains("scripts/run.sh", runner.Output, StringComparison.Ordinal);
        AssertShortAndStackless(runner.Output);
    }

    [Fact]
    public async Task IdentityBasedConnection_Unreachable_ExitsWithStorageUnreachable_NamingItsServiceUri()
    {
        var blob = TestStorage.FreePort();
        using var runner = new RunnerProcess(_ => { }, new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = "",
            ["AzureWebJobsStorage__blobServiceUri"] = $"https://127.0.0.1:{blob}/devstoreaccount1",
            ["AzureWebJobsStorage__queueServiceUri"] = $"https://127.0.0.1:{blob}/devstoreaccount1",
            ["AzureWebJobsStorage__tableServiceUri"] = $"https://127.0.0.1:{blob}/devstoreaccount1",
        });

        var exitCode = await runner.RunUntilExitAsync(ExitWithin);

        Assert.Equal(StartupException.StorageUnreachable, exitCode);
        Assert.Contains($"the blob endpoint https://127.0.0.1:{blob}/devstoreaccount1 of 'AzureWebJobsStorage'", runner.Output, StringComparison.Ordinal);
        AssertShortAndStackless(runner.Output);
    }

    [Fact]
    public async Task OptionOutOfRange_ExitsWithInvalidSetting_NamingItsSectionAndMember()
    {
        using var runner = new RunnerProcess(_ => { }, new Dictionary<string, string> { ["Jobs__Storage__MaxRetries"] = "99" });

        var exitCode = await runner.RunUntilExitAsync(ExitWithin);

        Assert.Equal(StartupException.InvalidSetting, exitCode);
        Assert.Contains("a setting is invalid (Jobs:Storage, set as Jobs__Storage__*)", runner.Output, StringComparison.Ordinal);
        Assert.Contains("MaxRetries", runner.Output, StringComparison.Ordinal);
        AssertShortAndStackless(runner.Output);
    }

    [Fact]
    public async Task Serving_PrintsTheApiDashboardOpenApiAndHealthAddresses()
    {
        using var runner = new RunnerProcess(_ => { });
        await runner.StartAsync();
        var root = runner.Client.BaseAddress!.ToString().TrimEnd('/') + "/api";

        await Conditions.WaitUntilAsync(() => Task.FromResult(runner.Output.Contains("Jobs is serving", StringComparison.Ordinal)), "the serving banner");

        foreach (var line in new[] { $"API        {root}/jobs", $"Dashboard  {root}/dashboard", $"OpenAPI    {root}/openapi.json", $"Health     {root}/health" })
        {
            Assert.Contains(line, runner.Output, StringComparison.Ordinal);
        }
        using var dashboard = await runner.Client.GetAsync($"{root}/dashboard");
        Assert.True(dashboard.IsSuccessStatusCode, $"{(int)dashboard.StatusCode} from the printed dashboard address");
    }
}
