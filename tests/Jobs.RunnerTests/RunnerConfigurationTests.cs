using Jobs.LocalRunner.Configuration;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;

namespace Jobs.RunnerTests;

public sealed class RunnerConfigurationTests
{
    [Fact]
    public void HostJson_OfTheRepository_IsReadLikeTheFunctionsHostReadsIt()
    {
        var host = HostSettings.Load(Path.Combine(RepoPaths.Root, "host.json"), new ConfigurationBuilder().Build());
        Assert.Equal("api", host.RoutePrefix);
        Assert.Equal("JobsHub", host.HubName);
        Assert.Equal(5, host.QueueMaxDequeueCount);
        Assert.Equal(TimeSpan.Zero, host.QueueVisibilityTimeout);
        Assert.True(host.QueueMessagesBase64);
        Assert.Equal(TimeSpan.FromSeconds(1), host.DurableMaxQueuePollingInterval);
        Assert.Equal(TimeSpan.FromMinutes(5), host.DurableWorkItemVisibilityTimeout);
    }

    [Fact]
    public void HostJson_WithoutExtensions_GetsTheHostDefaults()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, """{"version":"2.0","extensions":{"queues":{"messageEncoding":"none"}}}""");
        try
        {
            var host = HostSettings.Load(path, new ConfigurationBuilder().Build());
            Assert.Equal("TestHubName", host.HubName);
            Assert.Equal(5, host.QueueMaxDequeueCount);
            Assert.False(host.QueueMessagesBase64);
            Assert.Equal(TimeSpan.FromSeconds(30), host.DurableMaxQueuePollingInterval);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LocalSettings_MapDoubleUnderscoresToSections_AndReadConnectionStrings()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, """{"Values":{"Jobs__Storage__TablePrefix":"x","Plain":"1"},"ConnectionStrings":{"Db":"cs"}}""");
        try
        {
            var settings = LocalSettings.Load(path);
            Assert.Equal("x", settings["Jobs:Storage:TablePrefix"]);
            Assert.Equal("1", settings["Plain"]);
            Assert.Equal("cs", settings["ConnectionStrings:Db"]);
            Assert.Empty(LocalSettings.Load(path + ".missing"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SampleSettings_HoldEveryAppSetting_WithWorkingLocalValues()
    {
        var sample = LocalSettings.Load(Path.Combine(RepoPaths.Root, "local.settings.sample.json"));
        foreach (var key in new[] { "AzureWebJobsStorage", "Jobs:Storage:TablePrefix", "Jobs:Storage:MaxRetries", "Jobs:Storage:ArtifactContainer",
            "Jobs:Identity:TrustClientPrincipal", "Jobs:Identity:DevelopmentIdentity", "Jobs:Retention:MaxAgeDays", "Jobs:Retention:MaxPerRun",
            "Jobs:Http:TrustedProxies", "Jobs:Http:PublicBaseUrl", "Jobs:Http:AllowedOrigins", "Jobs:Reconciler:GraceSeconds", "Jobs:Runner:RequireKeys", "Jobs:Telemetry:Console",
            "Jobs:Reconciler:RecountMinutes", "Jobs:Storage:OwnerIndexBuckets", "Jobs:Events:MaxStreamsPerCaller", "Jobs:Events:MaxStreamSeconds",
            "Jobs:Events:HeartbeatSeconds", "APPLICATIONINSIGHTS_CONNECTION_STRING", "OTEL_EXPORTER_OTLP_ENDPOINT",
            "Jobs:Schedules:MaxPerOwner", "Jobs:Webhooks:AllowLoopbackHttp", "Jobs:Webhooks:MaxPerOwner", "Jobs:Metrics:KeepDays", "Jobs:Retention:DeletionLogDays",
            "Jobs:Artifacts:MaxArtifactBytes", "Jobs:Artifacts:MaxJobBytes", "Jobs:Artifacts:MaxPerJob" })
        {
            Assert.True(sample.ContainsKey(key), key);
        }
        Assert.Equal("UseDevelopmentStorage=true", sample["AzureWebJobsStorage"]);
        // Local development: webhooks may go to a receiver on this machine over http (never in Azure: the template leaves it unset).
        Assert.Equal("true", sample["Jobs:Webhooks:AllowLoopbackHttp"]);
    }

    [Theory]
    [InlineData("http://127.0.0.1:40123", "127.0.0.1:40123")]
    [InlineData("http://localhost:7071", "localhost:7071")]
    [InlineData("https://0.0.0.0:7071", "localhost:7071")]
    [InlineData("http://[::]:7071", "localhost:7071")]
    [InlineData("http://+:7071", "localhost:7071")]
    [InlineData("http://*:7071", "localhost:7071")]
    [InlineData("http://[::1]:7071", "[::1]:7071")]
    [InlineData("http://127.0.0.1:0", null)]
    public void WebsiteHostName_IsTheAuthorityTheRunnerListensOn_AsCoreToolsSetsIt(string address, string? expected) =>
        Assert.Equal(expected, ListeningHostName.Authority(address));

    [Fact]
    public void WebsiteHostName_FromTheEnvironmentOrSettings_Wins_ElseTheBoundAddress()
    {
        var bound = new ListeningHostName { Addresses = () => ["http://127.0.0.1:0", "http://127.0.0.1:40123"] };
        Assert.True(bound.TryGet("WEBSITE_HOSTNAME", out var value));
        Assert.Equal("127.0.0.1:40123", value);
        Assert.False(new ListeningHostName().TryGet("WEBSITE_HOSTNAME", out _));

        var configuration = new ConfigurationBuilder()
            .Add(bound)
            .AddInMemoryCollection(new Dictionary<string, string?> { ["WEBSITE_HOSTNAME"] = "jobs.example.test" })
            .Build();
        Assert.Equal("jobs.example.test", configuration["WEBSITE_HOSTNAME"]);
    }
}
