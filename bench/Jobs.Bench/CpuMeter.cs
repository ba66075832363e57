namespace Jobs.Bench;

/// <summary>CPU milliseconds per job a measured run used: all its emulators, the task hub's among them, and this process.</summary>
/// <paramref name="Process"/> is the bench's own process: the runner (app, durable engine) and the load generator for
/// ours, the engine and its client for the bare engine.
/// <paramref name="Jit"/> is the part of <paramref name="Process"/> the JIT compiler spent (System.Runtime.JitInfo): code
/// compiled or recompiled at a higher tier during the run, not work done per job.
public sealed record CpuPerJob(double Emulators, double TaskHub, double Process, double Jit = 0)
{
    public double Total => Emulators + Process;
}

/// <summary>
/// Reads the CPU time of a run's emulators and of this process at the start of its measured jobs and at their end.
/// On two cores the question is not only which process is busiest but whether the machine has any core left: the
/// per-job split says where the time goes, and (with the run's seconds) how much of both cores a run kept busy.
/// </summary>
public sealed class CpuMeter(Emulators emulators)
{
    private (double Emulators, double TaskHub, double Process, double Jit) _start;

    public void Start() => _start = Read();

    public CpuPerJob PerJob(int jobs)
    {
        var now = Read();
        return new CpuPerJob(
            (now.Emulators - _start.Emulators) * 1000 / jobs, (now.TaskHub - _start.TaskHub) * 1000 / jobs, (now.Process - _start.Process) * 1000 / jobs,
            (now.Jit - _start.Jit) * 1000 / jobs);
    }

    private (double Emulators, double TaskHub, double Process, double Jit) Read()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return (emulators.CpuSeconds(), emulators.TaskHubCpuSeconds(), self.TotalProcessorTime.TotalSeconds,
            System.Runtime.JitInfo.GetCompilationTime(currentThread: false).TotalSeconds);
    }
}

/// <summary>
/// One measured throughput run of ours: its time, and the storage requests per job by kind (method and service) of the
/// durable backend and of the app's own storage.
/// </summary>
public sealed record RunResult(double Seconds, IReadOnlyDictionary<string, double> DurableByKind, IReadOnlyDictionary<string, double> AppByKind);
