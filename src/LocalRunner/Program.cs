using Jobs.LocalRunner;
using Jobs.LocalRunner.Configuration;

// Usage: Jobs.LocalRunner [--content-root DIR] [--urls URL]
// DIR holds host.json and local.settings.json; by default the nearest folder upwards that has host.json.
var contentRoot = ArgValue(args, "--content-root") ?? FindContentRoot(Directory.GetCurrentDirectory())
    ?? throw new InvalidOperationException("host.json not found; pass --content-root.");
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
await RunnerHost.Build(options).RunAsync();

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
