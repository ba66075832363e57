using System.Diagnostics;
using System.Xml.Linq;

namespace Jobs.PackageTests;

/// <summary>
/// Jobs.Client and Jobs.Cli packed once per test run (<c>dotnet pack --no-build</c> of what the suite built, in the test
/// assembly's configuration) into a folder of their own, as a release would publish them.
/// </summary>
public sealed class PackedPackages : IAsyncLifetime
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("jobs-packages-").FullName;

    /// <summary>The repository root: the folder above this assembly that holds Jobs.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The configuration the suite was built with (the test assembly's own: bin/&lt;Configuration&gt;/net10.0).</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The one version source both packages take their version from.</summary>
    public static string Version { get; } =
        XDocument.Load(Path.Combine(RepoRoot, "src", "Packaging.props")).Descendants("VersionPrefix").Single().Value;

    public static string RepositoryUrl { get; } =
        XDocument.Load(Path.Combine(RepoRoot, "src", "Packaging.props")).Descendants("RepositoryUrl").Single().Value;

    public string Package(string id, string extension = "nupkg") => Path.Combine(Directory, $"{id}.{Version}.{extension}");

    public async Task InitializeAsync()
    {
        foreach (var project in new[] { "Client", "Cli" })
        {
            var (exit, output) = await RunAsync("dotnet", RepoRoot,
                ["pack", Path.Combine("src", project), "-c", Configuration, "--no-build", "-o", Directory, "-nologo"]);
            Assert.True(exit == 0, $"dotnet pack src/{project} failed:\n{output}");
        }
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Runs a process to its end (at most two minutes) and returns its exit code with stdout and stderr together.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string file, string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Jobs.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Jobs.sln not found above " + AppContext.BaseDirectory);
    }
}
