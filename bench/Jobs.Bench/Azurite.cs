using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Jobs.Bench;

/// <summary>
/// A private in-memory Azurite process for one benchmark phase, started and stopped by the bench, so no phase starts
/// on an emulator still working off the previous one (Azurite is one Node.js process: a backlog left by a phase runs
/// on into the next, see docs/benchmarks.md). Reports the CPU time its process used.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    private readonly Process _process;

    private Azurite(Process process, string connectionString)
    {
        _process = process;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    /// <summary>The path of the Azurite binary (scripts/bench.sh passes the one installed from the lockfile).</summary>
    public static string Binary { get; set; } = Environment.GetEnvironmentVariable("JOBS_AZURITE") ?? "node_modules/.bin/azurite";

    public static async Task<Azurite> StartAsync()
    {
        int blob = FreePort(), queue = FreePort(), table = FreePort();
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--inMemoryPersistence",
            "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
            "--blobPort", $"{blob}", "--queuePort", $"{queue}", "--tablePort", $"{table}",
        })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
        var connection = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Key};"
            + $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
        for (var i = 0; i < 200; i++)
        {
            if (await AnswersAsync(blob) && await AnswersAsync(queue) && await AnswersAsync(table))
            {
                return new Azurite(process, connection);
            }
            if (process.HasExited)
            {
                throw new InvalidOperationException("Azurite exited during start-up.");
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("Azurite did not start within 20 s.");
    }

    /// <summary>CPU seconds (user + system) the emulator's process has used so far (Linux /proc; 0 elsewhere).</summary>
    public double CpuSeconds()
    {
        try
        {
            // /proc/{pid}/stat: fields 14 and 15 are utime and stime in clock ticks (100 per second on Linux).
            var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static async Task<bool> AnswersAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>
/// Where a phase's storage lives: the app and the task hub on one emulator (<c>shared</c>), or the task hub on an
/// emulator of its own (<c>split</c>, via host.json's <c>storageProvider.connectionName</c>), so a second core works.
/// </summary>
public sealed class Emulators : IAsyncDisposable
{
    private Emulators(string layout, Azurite app, Azurite? taskHub)
    {
        Layout = layout;
        App = app;
        TaskHub = taskHub;
    }

    public string Layout { get; }
    public Azurite App { get; }
    public Azurite? TaskHub { get; }

    /// <summary>The task hub's connection (the app's in the shared layout).</summary>
    public string DurableConnection => (TaskHub ?? App).ConnectionString;

    public double CpuSeconds() => App.CpuSeconds() + (TaskHub?.CpuSeconds() ?? 0);

    /// <summary>CPU seconds of the emulator holding the task hub (the only one in the shared layout).</summary>
    public double TaskHubCpuSeconds() => (TaskHub ?? App).CpuSeconds();

    /// <summary>The layouts <see cref="StartAsync"/> knows.</summary>
    public static readonly IReadOnlyList<string> Layouts = ["shared", "split"];

    public static async Task<Emulators> StartAsync(string layout) => layout switch
    {
        "shared" => new(layout, await Azurite.StartAsync(), null),
        "split" => new(layout, await Azurite.StartAsync(), await Azurite.StartAsync()),
        _ => throw new ArgumentException($"Unknown layout '{layout}' (known: {string.Join(", ", Layouts)}).", nameof(layout)),
    };

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        if (TaskHub is not null)
        {
            await TaskHub.DisposeAsync();
        }
    }
}
