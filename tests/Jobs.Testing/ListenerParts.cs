using DurableTask.AzureStorage;
using Jobs.LocalRunner.Durable;
using Microsoft.DurableTask.Converters;

namespace Jobs.Testing;

/// <summary>What a trigger listener needs besides its function, for tests that build one directly.</summary>
public static class ListenerParts
{
    /// <summary>
    /// A real durable client on the test storage with a task hub nobody uses: the listeners require one for
    /// <c>[DurableClient]</c> parameters, and the probe functions these tests run take none, so it is never called.
    /// </summary>
    public static AzureStorageDurableTaskClient UnusedDurableClient() =>
        new(new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = "unusedhub",
            StorageAccountClientProvider = new StorageAccountClientProvider(TestStorage.ConnectionString),
        }), JsonDataConverter.Default, "code=x");

    /// <summary>Polls until <paramref name="condition"/> holds, or fails after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }
            await Task.Delay(50);
        }
    }
}
