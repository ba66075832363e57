using DurableTask.AzureStorage;
using DurableTask.Core;
using Jobs.LocalRunner.Durable;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.Bench;

/// <summary>
/// The engine's own ceiling: the same Azure Storage backend and settings as the runner (host.json), running an
/// orchestration of five no-op activities, with no job records, logs or status.
/// </summary>
public static class BareEngine
{
    public static async Task<double> RunAsync(string connectionString, int jobs, int steps, int partitions, int concurrency)
    {
        var service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = "bare" + Guid.NewGuid().ToString("N")[..8],
            StorageAccountClientProvider = new StorageAccountClientProvider(connectionString),
            PartitionCount = partitions,
            MaxConcurrentTaskActivityWorkItems = concurrency,
            MaxConcurrentTaskOrchestrationWorkItems = concurrency,
            MaxQueuePollingInterval = TimeSpan.FromSeconds(1),
        });
        await service.CreateIfNotExistsAsync();
        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions(), NullLoggerFactory.Instance);
        using var worker = new TaskHubWorker(service, NullLoggerFactory.Instance) { ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails };
        worker.AddTaskOrchestrations(new Creator<TaskOrchestration>("Bare", () => shims.CreateOrchestration<int, int>(new TaskName("Bare"), async (context, n) =>
        {
            for (var i = 0; i < n; i++)
            {
                await context.CallActivityAsync<int>("Noop", i);
            }
            return n;
        })));
        worker.AddTaskActivities(new Creator<TaskActivity>("Noop", () => shims.CreateActivity<int, int>(new TaskName("Noop"), (context, i) =>
        {
            return Task.FromResult(i);
        })));
        await worker.StartAsync();
        var client = new AzureStorageDurableTaskClient(service, JsonDataConverter.Default, "/", "");

        // Warm up (partition leases), as for the runner.
        var warm = await client.ScheduleNewOrchestrationInstanceAsync("Bare", 1);
        await client.WaitForInstanceCompletionAsync(warm);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (_, ct) => ids.Add(await client.ScheduleNewOrchestrationInstanceAsync("Bare", steps, ct)));
        // Completion is observed through the instances table, as a client would see it.
        while (true)
        {
            var completed = 0;
            await foreach (var page in client.GetAllInstancesAsync(new Microsoft.DurableTask.Client.OrchestrationQuery
            {
                Statuses = [Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed],
                PageSize = 1000,
            }).AsPages())
            {
                completed += page.Values.Count;
            }
            if (completed >= jobs + 1)
            {
                break;
            }
            await Task.Delay(200);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        await worker.StopAsync(true);
        await service.DeleteAsync();
        return seconds;
    }

    private sealed class Creator<T> : ObjectCreator<T>
    {
        private readonly Func<T> _create;

        public Creator(string name, Func<T> create)
        {
            Name = name;
            Version = string.Empty;
            _create = create;
        }

        public override T Create() => _create();
    }
}
