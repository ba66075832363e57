using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Jobs.Testing;

/// <summary>
/// The runner as a real child process (the published Jobs.LocalRunner.dll) with a content root of its own: the repo's
/// host.json with a private task hub (and whatever a test changes in it), local.settings.json pointing at the test
/// Azurite. Start, kill, stop with a signal and start again, as an operator would.
/// </summary>
public sealed class RunnerProcess : IDisposable
{
    private readonly string _contentRoot = Directory.CreateTempSubdirectory("jobs-runner-").FullName;
    private int _port = TestStorage.FreePort();
    private readonly System.Text.StringBuilder _output = new();
    private int _outputAtLaunch; // where the latest launch's output begins in _output
    private Process? _process;

    private readonly IReadOnlyDictionary<string, string> _environment = new Dictionary<string, string>();

    /// <param name="editHost">Changes to host.json's <c>extensions.durableTask</c> section.</param>
    /// <param name="settings">More app settings for local.settings.json's <c>Values</c>.</param>
    /// <param name="environment">Environment variables of the process, beside the test process's own.</param>
    /// <param name="testStorage">
    /// Whether <c>AzureWebJobsStorage</c> is the test Azurite's connection string; without it, <paramref name="settings"/>
    /// give the storage connection, and the process gets no storage connection string from the test run at all.
    /// </param>
    public RunnerProcess(Action<JsonNode> editHost, IReadOnlyDictionary<string, string>? settings = null,
        IReadOnlyDictionary<string, string>? environment = null, bool testStorage = true)
    {
        _environment = environment ?? _environment;
        _testStorage = testStorage;
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")))!;
        var durable = host["extensions"]!["durableTask"]!;
        durable["hubName"] = "proc" + Guid.NewGuid().ToString("N")[..10];
        editHost(durable);
        HubName = (string)durable["hubName"]!;
        File.WriteAllText(Path.Combine(_contentRoot, "host.json"), host.ToJsonString());
        var prefix = "c" + Guid.NewGuid().ToString("N")[..10];
        TablePrefix = prefix;
        var local = new JsonObject
        {
            ["IsEncrypted"] = false,
            ["Values"] = new JsonObject
            {
                ["Jobs__Storage__TablePrefix"] = prefix,
                ["Jobs__Storage__ArtifactContainer"] = "exp-" + prefix,
                ["Jobs__Identity__DevelopmentIdentity"] = "process-tester",
                // The queue is shared by the whole test run; the queue tests' runner consumes it, this one must not.
                ["AzureWebJobs.SubmitFromQueue.Disabled"] = "true",
            },
        };
        if (testStorage)
        {
            local["Values"]!["AzureWebJobsStorage"] = TestStorage.ConnectionString;
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            local["Values"]![key] = value;
        }
        File.WriteAllText(Path.Combine(_contentRoot, "local.settings.json"), local.ToJsonString());
        Client = NewClient();
    }

    /// <summary>
    /// A second instance of <paramref name="sibling"/>'s app: the same storage account, task hub, tables and settings, a
    /// content root and port of its own — two instances of one Functions app, as the platform scales it out.
    /// </summary>
    public RunnerProcess(RunnerProcess sibling)
    {
        TablePrefix = sibling.TablePrefix;
        HubName = sibling.HubName;
        _environment = sibling._environment;
        _testStorage = sibling._testStorage;
        foreach (var file in new[] { "host.json", "local.settings.json" })
        {
            File.Copy(Path.Combine(sibling._contentRoot, file), Path.Combine(_contentRoot, file));
        }
        Client = NewClient();
    }

    private readonly bool _testStorage;

    public HttpClient Client { get; }

    /// <summary>The port the runner listens on (or is to): another one after a launch that lost its port (<see cref="StartAsync"/>).</summary>
    public int Port => Volatile.Read(ref _port);

    /// <summary>A client of the runner whose requests go to <see cref="Port"/>, whatever port its base address names.</summary>
    private HttpClient NewClient() =>
        new(new ToCurrentPort(this, _port)) { BaseAddress = new Uri($"http://127.0.0.1:{_port}"), Timeout = TimeSpan.FromSeconds(30) };

    private sealed class ToCurrentPort(RunnerProcess runner, int addressed) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { IsLoopback: true } uri && uri.Port == addressed && runner.Port != addressed)
            {
                request.RequestUri = new UriBuilder(uri) { Port = runner.Port }.Uri;
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>The task hub (host.json's <c>extensions.durableTask.hubName</c>): its queues are <c>{hub}-workitems</c>, <c>{hub}-control-NN</c>.</summary>
    public string HubName { get; }

    /// <summary>The prefix of the app's tables (<c>Jobs__Storage__TablePrefix</c>): its records are in <c>{prefix}Jobs</c>.</summary>
    public string TablePrefix { get; }

    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>What the process wrote so far, standard output and error interleaved line by line.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the runner and waits until it serves HTTP (bounded by 90 s: several runners starting at once on a
    /// loaded 2-core machine share its cores — a guard against a hang, not a speed target). The port was free when it was
    /// picked, but another process can bind it before the runner does (Kestrel binds after the host's services start, seconds
    /// later on a busy machine); a runner that exits for that is launched again on another port, at most twice.</summary>
    public async Task StartAsync()
    {
        Launch();
        var started = Stopwatch.StartNew();
        var lastSeen = "no answer yet";
        var relaunches = 0;
        while (started.Elapsed < StartBound)
        {
            try
            {
                using var probe = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var response = await Client.GetAsync("/api/job-types", probe.Token);
                // Answered by this runner, not by another process that holds the port: it printed its banner since this launch.
                if (response.IsSuccessStatusCode && !HasExited && OutputSinceLaunch().Contains("Jobs is serving", StringComparison.Ordinal))
                {
                    return;
                }
                lastSeen = $"{(int)response.StatusCode}: {Truncate(await response.Content.ReadAsStringAsync(), 500)}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                lastSeen = ex.Message;
            }
            if (HasExited)
            {
                if (relaunches < 2 && OutputSinceLaunch().Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                {
                    relaunches++;
                    Capture($"[RunnerProcess] port {_port} was taken before the runner bound it: launching again on another port");
                    Volatile.Write(ref _port, TestStorage.FreePort());
                    _process!.Dispose();
                    Launch();
                    continue;
                }
                break;
            }
            await Task.Delay(100);
        }
        var lines = Output.Split('\n');
        throw new TimeoutException($"The runner did not start serving within {started.Elapsed.TotalSeconds:F0} s " +
            $"({(HasExited ? $"it exited with {_process!.ExitCode}" : "still running")}; the last probe of /api/job-types: {lastSeen}). " +
            $"Its last output:\n{string.Join('\n', lines.TakeLast(60))}");
    }

    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(90);

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    /// <summary>Starts the runner for a start that must fail: waits for it to exit (bounded) and returns its exit code.</summary>
    public async Task<int> RunUntilExitAsync(TimeSpan timeout)
    {
        Launch();
        using var wait = new CancellationTokenSource(timeout);
        await _process!.WaitForExitAsync(wait.Token);
        return _process.ExitCode;
    }

    private void Launch()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Jobs.LocalRunner.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "--content-root", _contentRoot, "--urls", $"http://127.0.0.1:{_port}" })
        {
            start.ArgumentList.Add(arg);
        }
        if (!_testStorage)
        {
            start.Environment.Remove("JOBS_TEST_STORAGE");
        }
        foreach (var (key, value) in _environment)
        {
            start.Environment[key] = value;
        }
        lock (_output)
        {
            _outputAtLaunch = _output.Length;
        }
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Capture(e.Data);
        _process.ErrorDataReceived += (_, e) => Capture(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private string OutputSinceLaunch()
    {
        lock (_output)
        {
            return _output.ToString(_outputAtLaunch, _output.Length - _outputAtLaunch);
        }
    }

    private void Capture(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary><c>kill -9</c>: the process ends at once, holding whatever it held.</summary>
    public async Task KillAsync()
    {
        _process!.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary><c>kill -TERM</c>, as a container runtime or systemd stops a service; waits for the process to exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var wait = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(wait.Token);
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process?.Dispose();
        Client.Dispose();
        try
        {
            Directory.Delete(_contentRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
