using System.Collections.Concurrent;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.RunnerTests;

/// <summary>
/// What the probe queue function did. A message's text says how it behaves: <c>gate:…</c> waits until the test opens
/// its gate, <c>stubborn:…</c> waits for its gate ignoring its cancellation token (on its first delivery only; later
/// ones return at once), <c>sleep:N:…</c> runs N milliseconds,
/// <c>fail:…</c> throws, anything else returns at once.
/// </summary>
public sealed class QueueProbe
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();

    public ConcurrentQueue<string> Started { get; } = new();

    public ConcurrentQueue<string> Finished { get; } = new();

    /// <summary>Runs that ended because their cancellation token was cancelled.</summary>
    public ConcurrentQueue<string> Cancelled { get; } = new();

    /// <summary>The message id each run was given (<see cref="QueueProbeWithIdFunction"/> only).</summary>
    public ConcurrentQueue<(string Message, string? Id)> Ids { get; } = new();

    public void Open(string message) => Gate(message).TrySetResult();

    public async Task RunAsync(string message, CancellationToken cancellationToken)
    {
        Started.Enqueue(message);
        if (message.StartsWith("gate:", StringComparison.Ordinal))
        {
            try
            {
                await Gate(message).Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Cancelled.Enqueue(message);
                throw;
            }
        }
        else if (message.StartsWith("stubborn:", StringComparison.Ordinal) && Started.Count(m => m == message) == 1)
        {
            await Gate(message).Task;
        }
        else if (message.StartsWith("sleep:", StringComparison.Ordinal))
        {
            await Task.Delay(int.Parse(message.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        }
        else if (message.StartsWith("fail:", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Probe failure for {message}.");
        }
        Finished.Enqueue(message);
    }

    private TaskCompletionSource Gate(string message) =>
        _gates.GetOrAdd(message, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>A queue-triggered function on a queue named by an app setting, so every test can have a queue of its own.</summary>
public sealed class QueueProbeFunction(QueueProbe probe)
{
    public const string QueueSetting = "ProbeQueue";

    public Task Run([QueueTrigger("%" + QueueSetting + "%")] string message, CancellationToken cancellationToken) =>
        probe.RunAsync(message, cancellationToken);
}

/// <summary>The probe function with the message id bound by name, as an isolated-worker function binds it.</summary>
public sealed class QueueProbeWithIdFunction(QueueProbe probe)
{
    public Task Run([QueueTrigger("%" + QueueProbeFunction.QueueSetting + "%")] string message, string id, CancellationToken cancellationToken)
    {
        probe.Ids.Enqueue((message, id));
        return probe.RunAsync(message, cancellationToken);
    }
}
