using System.Diagnostics;

namespace Jobs.Testing;

/// <summary>
/// The npm tools that check the OpenAPI document as its users' tools would — openapi-typescript, TypeScript's
/// <c>tsc</c> and Redocly CLI — pinned by <c>tests/openapi-ts/package-lock.json</c> and installed there by
/// <c>scripts/test.sh</c> (<c>ensure_openapi_tools</c>). Each runs as a process in a folder of the test's.
/// </summary>
public static class OpenApiTools
{
    /// <summary>Where the tools' package.json, lockfile and node_modules are.</summary>
    public static string Folder { get; } = Path.Combine(RepoPaths.Root, "tests", "openapi-ts");

    /// <summary>A hang guard, not a measurement: each tool finishes in seconds.</summary>
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    /// <summary>Runs <paramref name="tool"/> (a name in node_modules/.bin) in <paramref name="directory"/>.</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string tool, string directory, params string[] arguments)
    {
        var path = Path.Combine(Folder, "node_modules", ".bin", tool);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{tool} is not installed: run scripts/test.sh (or `npm ci` in tests/openapi-ts) first.");
        }
        var start = new ProcessStartInfo(path)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // Redocly CLI: no usage reports and no update checks from a test run.
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish within {Limit}.");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
