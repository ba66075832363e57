using Jobs.LocalRunner;
using Jobs.LocalRunner.Configuration;
using Jobs.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.RunnerTests;

/// <summary>
/// Core Tools runs the app with AZURE_FUNCTIONS_ENVIRONMENT=Development (azure-functions-core-tools,
/// src/Cli/func/Actions/HostActions/StartHostAction.cs), and the isolated worker takes its environment from that
/// variable (ConfigureFunctionsWorkerDefaults adds the AZURE_FUNCTIONS_ variables to the host configuration), so the
/// worker's HostApplicationBuilder validates DI scopes and the container. The runner does the same, and every runner
/// the tests start runs in Development: a scope bug in the app fails the suite.
/// </summary>
public sealed class DevelopmentEnvironmentTests
{
    private static WebApplication Build(string? environment, Action<IServiceCollection> services) =>
        RunnerHost.Build(new RunnerOptions
        {
            ContentRoot = RepoPaths.Root,
            Urls = "http://127.0.0.1:0",
            LoadLocalSettings = false,
            EnableQueueTriggers = false,
            EnableTimerTriggers = false,
            Settings = new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = TestStorage.ConnectionString,
                ["Jobs:Runner:SystemKey"] = "not-used",
                ["Logging:LogLevel:Default"] = "Critical",
                [RunnerHost.EnvironmentSetting] = environment,
            },
            ConfigureServices = services,
        });

    [Fact]
    public void InDevelopment_ASingletonHoldingAScopedService_FailsTheBuild()
    {
        var error = Assert.Throws<AggregateException>(() => Build("Development", s => s.AddScoped<ScopedThing>().AddSingleton<CaptiveThing>()));
        Assert.Contains(error.InnerExceptions, e => e.Message.Contains("Cannot consume scoped service", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InDevelopment_AScopedServiceFromTheRoot_Throws()
    {
        await using var app = Build("Development", s => s.AddScoped<ScopedThing>());
        Assert.True(app.Environment.IsDevelopment());
        Assert.Throws<InvalidOperationException>(() => app.Services.GetRequiredService<ScopedThing>());
    }

    [Fact]
    public async Task OutsideDevelopment_NothingIsValidated_AsInAzure()
    {
        await using var app = Build(null, s => s.AddScoped<ScopedThing>().AddSingleton<CaptiveThing>());
        Assert.True(app.Environment.IsProduction());
        Assert.NotNull(app.Services.GetRequiredService<CaptiveThing>());
    }

    public sealed class ScopedThing;

    public sealed class CaptiveThing(ScopedThing scoped)
    {
        public ScopedThing Scoped { get; } = scoped;
    }
}
