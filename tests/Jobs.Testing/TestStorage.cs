using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Jobs.Testing;

/// <summary>
/// The Azurite every storage test uses: the one scripts/test.sh started (JOBS_TEST_STORAGE), or, when tests run
/// from an IDE, one this process starts from the repository's pinned node_modules and stops on exit.
/// </summary>
public static class TestStorage
{
    private static readonly Lazy<string> Connection = new(StartOrReuse, LazyThreadSafetyMode.ExecutionAndPublication);
    private static Process? s_azurite;

    public static string ConnectionString => Connection.Value;

    private static string StartOrReuse()
    {
        var fromScript = Environment.GetEnvironmentVariable("JOBS_TEST_STORAGE");
        if (!string.IsNullOrEmpty(fromScript))
        {
            return fromScript;
        }
        var azurite = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite");
        if (!File.Exists(azurite))
        {
            throw new InvalidOperationException("Azurite is not installed: run scripts/test.sh (or npm ci) first.");
        }
        int blob = FreePort(), queue = FreePort(), table = FreePort();
        s_azurite = Process.Start(new ProcessStartInfo(azurite,
            $"--silent --inMemoryPersistence --skipApiVersionCheck --loose --disableTelemetry --blobPort {blob} --queuePort {queue} --tablePort {table}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { s_azurite.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } };
        foreach (var port in new[] { blob, queue, table })
        {
            WaitForPort(port);
        }
        return ConnectionStringFor(blob, queue, table);
    }

    public static string ConnectionStringFor(int blob, int queue, int table) =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static void WaitForPort(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }
        throw new TimeoutException($"Azurite did not open port {port}.");
    }
}
