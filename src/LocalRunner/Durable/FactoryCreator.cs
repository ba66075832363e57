using DurableTask.Core;

namespace Jobs.LocalRunner.Durable;

/// <summary>Creates a fresh task object for every execution (orchestration shims hold per-execution state).</summary>
public sealed class FactoryCreator<T> : ObjectCreator<T>
{
    private readonly Func<T> _create;

    public FactoryCreator(string name, Func<T> create)
    {
        Name = name;
        Version = string.Empty;
        _create = create;
    }

    public override T Create() => _create();
}
