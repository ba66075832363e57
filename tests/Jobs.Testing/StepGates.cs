using System.Collections.Concurrent;

namespace Jobs.Testing;

/// <summary>
/// Named gates that a test job type's step waits at until the test opens them: a step that must still be running while
/// the test looks (a slot holder, a step whose lines are read while it runs) holds until the test has looked, not for a
/// fixed time that a loaded machine can outlast. The runner runs in the test's process, so the step and the test share
/// them; a step run again (a host restart) finds its gate open.
/// </summary>
public static class StepGates
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new(StringComparer.Ordinal);

    /// <summary>A gate no other test uses, closed until the test opens it (or disposes of it, so a failed test leaves no step held).</summary>
    public static StepGate Close() => new("gate-" + Guid.NewGuid().ToString("N"));

    /// <summary>Completes once the gate named <paramref name="gate"/> is open (at once if it already is), or when the step is cancelled.</summary>
    public static Task WaitAsync(string gate, CancellationToken cancellationToken) => Of(gate).Task.WaitAsync(cancellationToken);

    internal static void Open(string gate) => Of(gate).TrySetResult();

    private static TaskCompletionSource Of(string gate) =>
        Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>One gate of <see cref="StepGates"/>: pass <see cref="Name"/> in a job's input; open it when the test has looked.</summary>
public sealed class StepGate(string name) : IDisposable
{
    public string Name { get; } = name;

    public void Open() => StepGates.Open(Name);

    public void Dispose() => Open();
}
