using Jobs.LocalRunner;
using Jobs.LocalRunner.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

// Usage: Jobs.LocalRunner [--content-root DIR] [--urls URL]
// DIR holds host.json and local.settings.json; by default the nearest folder upwards that has host.json.
var contentRoot = ArgValue(args, "--content-root") ?? FindContentRoot(Directory.GetCurrentDirectory());
if (contentRoot is null)
{
    Console.Error.WriteLine("host.json not found in this folder or any above it: run from the repository, or pass --content-root DIR.");
    return StartupException.InvalidSetting;
}
// This is the local host, as `func start` is: Core Tools sets AZURE_FUNCTIONS_ENVIRONMENT=Development for the app,
// overriding any other value with a warning (azure-functions-core-tools, StartHostAction), so DI scopes are validated.
if (Environment.GetEnvironmentVariable(RunnerHost.EnvironmentSetting) is { } configured && configured != "Development")
{
    Console.Error.WriteLine($"{RunnerHost.EnvironmentSetting} already exists with value '{configured}', overriding to 'Development'.");
}
var options = new RunnerOptions
{
    ContentRoot = Path.GetFullPath(contentRoot),
    Urls = ArgValue(args, "--urls") ?? "http://localhost:7071",
    Settings = new Dictionary<string, string?> { [RunnerHost.EnvironmentSetting] = "Development" },
};
// A problem a person can fix is one short message and an exit code (StartupException's), not a stack trace.
try
{
    await RunnerHost.PreflightAsync(options, CancellationToken.None);
    var app = RunnerHost.Build(options);
    // The options' ValidateOnStart checks, run here so a bad value is this one message, not the host's logged stack.
    app.Services.GetService<IStartupValidator>()?.Validate();
    app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine(ServingBanner.For(app.Urls, app.Services)));
    await app.RunAsync();
    return 0;
}
catch (StartupException ex)
{
    Console.Error.WriteLine($"Jobs could not start: {ex.Message}");
    return ex.ExitCode;
}
catch (Exception ex) when (ex is OptionsValidationException || (ex is AggregateException all && all.InnerExceptions.All(e => e is OptionsValidationException)))
{
    var failures = ex is AggregateException many ? many.InnerExceptions.Cast<OptionsValidationException>() : [(OptionsValidationException)ex];
    foreach (var failure in failures)
    {
        Console.Error.WriteLine($"Jobs could not start: a setting is invalid ({ServingBanner.SectionOf(failure.OptionsType)}): {string.Join(" ", failure.Failures)}");
    }
    return StartupException.InvalidSetting;
}

static string? ArgValue(string[] args, string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

static string? FindContentRoot(string start)
{
    for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "host.json")))
        {
            return dir.FullName;
        }
    }
    return null;
}
