namespace Jobs.Functions.Handlers;

/// <summary>Every registered job type, by name. Built once from the handlers in DI.</summary>
public sealed class JobHandlerRegistry
{
    private readonly Dictionary<string, IJobHandler> _handlers;

    public JobHandlerRegistry(IEnumerable<IJobHandler> handlers)
    {
        _handlers = new Dictionary<string, IJobHandler>(StringComparer.Ordinal);
        foreach (var handler in handlers)
        {
            if (!_handlers.TryAdd(handler.Type, handler))
            {
                throw new InvalidOperationException($"Two job handlers declare the type '{handler.Type}'.");
            }
            if (!Model.JobPriority.IsValid(handler.DefaultPriority))
            {
                throw new InvalidOperationException($"Job type '{handler.Type}' declares default priority {handler.DefaultPriority}; priorities are 0–9.");
            }
            if (handler.Concurrency is { MaxRunning: < 1 or > JobConcurrency.MaxSlots } or { MaxPerKey: < 1 or > JobConcurrency.MaxSlots })
            {
                throw new InvalidOperationException($"Job type '{handler.Type}' declares a concurrency limit outside 1–{JobConcurrency.MaxSlots}.");
            }
        }
    }

    public IReadOnlyCollection<IJobHandler> All => _handlers.Values;

    public IEnumerable<string> TypeNames => _handlers.Keys.Order(StringComparer.Ordinal);

    public bool TryGet(string type, out IJobHandler handler) => _handlers.TryGetValue(type, out handler!);

    /// <summary>The handler for a stored job; a missing one means the deployment lost a type it had accepted.</summary>
    public IJobHandler Get(string type) =>
        TryGet(type, out var handler)
            ? handler
            : throw new InvalidOperationException($"No job handler is registered for type '{type}'.");
}
