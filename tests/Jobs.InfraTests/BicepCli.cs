using System.Diagnostics;
using System.Reflection;

namespace Jobs.InfraTests;

/// <summary>The Bicep CLI from the pinned Azure.Bicep.CommandLine.linux-x64 package (its path is recorded at build time).</summary>
internal static class BicepCli
{
    public static string Path { get; } = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "BicepPath").Value!;

    /// <summary>Runs <c>bicep</c> with <paramref name="args"/>; returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        if (!OperatingSystem.IsWindows() && !File.GetUnixFileMode(Path).HasFlag(UnixFileMode.UserExecute))
        {
            // A package extracted without its file modes (some caches do) still holds a runnable binary.
            File.SetUnixFileMode(Path, File.GetUnixFileMode(Path) | UnixFileMode.UserExecute);
        }
        var start = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // No telemetry, and no look for a newer CLI: these machines reach only the package registries.
        start.Environment["BICEP_TELEMETRY_ENABLED"] = "false";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }
}
