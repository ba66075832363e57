using Jobs.Functions.Storage;

namespace Jobs.LocalRunner.Durable;

/// <summary>Counts the durable backend's own storage requests, apart from the app's (for the benchmark's cost figures).</summary>
public sealed class DurableRequestCounter
{
    public StorageRequestCounter Counter { get; } = new();
}
