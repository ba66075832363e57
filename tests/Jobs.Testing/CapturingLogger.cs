using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Jobs.Testing;

/// <summary>An <see cref="ILogger{T}"/> that keeps what was logged, so a test can assert that a failure was reported.</summary>
public sealed class CapturingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, Exception? Exception, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, exception, formatter(state, exception)));
}
