using DurableTask.AzureStorage;
using DurableTask.Core;
using Jobs.Functions.Storage;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Durable;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.Bench;

/// <summary>
/// The engine's own ceiling: the same Azure Storage backend and settings as the runner (host.json), running an
/// orchestration of five no-op activities that publishes its progress through custom status, with no job records or
/// logs. Its backend requests are counted when <paramref name="requests"/> is given (from the first measured job on), as
/// the runner counts its own; <paramref name="measuring"/> is called when the measured jobs begin. With a
/// <paramref name="window"/>, at most that many instances are unfinished at a time (0: all scheduled at once).
/// </summary>
public static class BareEngine
{
    public static async Task<double> RunAsync(
        string connectionString, int jobs, int steps, HostSettings host, StorageRequestCounter? requests = null, Action? measuring = null, int window = 0, int runWarmup = 1)
    {
        // Exactly the runner's backend settings from the same host.json (DurableEngine.ServiceSettings, as the extension
        // builds them), so the two sides can never drift apart: only the hub and the worker id differ.
        var connection = Jobs.Functions.Storage.StorageConnection.FromConnectionString("AzureWebJobsStorage", connectionString);
        var service = new AzureStorageOrchestrationService(DurableEngine.ServiceSettings(
            new EngineSettings("bare" + Guid.NewGuid().ToString("N")[..8], connection, host, "bare-" + Environment.MachineName, ""),
            requests is null ? new StorageAccountClientProvider(connectionString) : DurableEngine.CountedClients(connection, requests),
            NullLoggerFactory.Instance));
        await service.CreateIfNotExistsAsync();
        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions(), NullLoggerFactory.Instance);
        using var worker = new TaskHubWorker(service, NullLoggerFactory.Instance) { ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails };
        var finished = 0;
        var target = int.MaxValue;
        using var slots = new SemaphoreSlim(window > 0 ? window : jobs + 1);
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // DURABLE2003 looks for [Function]-attributed activities; the bare engine registers "Noop" and "Finished"
        // with the framework directly (below), on purpose: it is the engine without the Functions model around it.
#pragma warning disable DURABLE2003
        worker.AddTaskOrchestrations(new FactoryCreator<TaskOrchestration>("Bare", () => shims.CreateOrchestration<int, int>(new TaskName("Bare"), async (context, n) =>
        {
            // Progress through custom status at every step boundary, as a user of the bare engine would publish it
            // (issue 15: "the bare Durable Functions engine with custom status") and as JobOrchestrator does.
            for (var i = 0; i < n; i++)
            {
                context.SetCustomStatus(new BareStatus(i * 100 / n, $"step{i + 1}", i, n, $"Running step{i + 1}"));
                await context.CallActivityAsync<int>("Noop", i);
            }
            // The last step reports the orchestration done, as FinishJob publishes a job's end.
            await context.CallActivityAsync<int>("Finished", n);
            context.SetCustomStatus(new BareStatus(100, null, n, n, "Completed"));
            return n;
        })));
#pragma warning restore DURABLE2003
        worker.AddTaskActivities(new FactoryCreator<TaskActivity>("Noop", () => shims.CreateActivity<int, int>(new TaskName("Noop"), (context, i) => Task.FromResult(i))));
        worker.AddTaskActivities(new FactoryCreator<TaskActivity>("Finished", () => shims.CreateActivity<int, int>(new TaskName("Finished"), (context, n) =>
        {
            if (Interlocked.Increment(ref finished) >= Volatile.Read(ref target))
            {
                all.TrySetResult();
            }
            slots.Release();
            return Task.FromResult(n);
        })));
        await worker.StartAsync();
        var client = new AzureStorageDurableTaskClient(service, JsonDataConverter.Default, "");

        // Warm up (partition leases, the first connections), unmeasured, as the runner's runs do (--run-warmup).
        foreach (var batch in Enumerable.Range(0, runWarmup).Chunk(16))
        {
            var warm = await Task.WhenAll(batch.Select(_ => client.ScheduleNewOrchestrationInstanceAsync("Bare", steps)));
            await Task.WhenAll(warm.Select(id => client.WaitForInstanceCompletionAsync(id)));
        }
        for (var i = 0; i < runWarmup; i++)
        {
            await slots.WaitAsync(); // the slots the warm-up's endings released
        }

        requests?.Reset();
        measuring?.Invoke();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Volatile.Write(ref target, jobs + runWarmup); // + the warm-up instances
        if (Volatile.Read(ref finished) >= jobs + runWarmup)
        {
            all.TrySetResult();
        }
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, ct) =>
        {
            await slots.WaitAsync(ct);
            await client.ScheduleNewOrchestrationInstanceAsync("Bare", steps, ct);
        });
        await all.Task;
        var seconds = clock.Elapsed.TotalSeconds;
        await worker.StopAsync(true);
        await service.DeleteAsync();
        return seconds;
    }
}

/// <summary>The bare orchestration's custom status: the shape a user would publish (progress, step, message).</summary>
public sealed record BareStatus(int Progress, string? Step, int StepIndex, int StepCount, string Message);
