namespace Jobs.Functions.Handlers;

/// <summary>
/// How many jobs of a type may run at once (<see cref="IJobHandler.Concurrency"/>): at most <paramref name="MaxRunning"/>
/// of the type, and at most <paramref name="MaxPerKey"/> with one <c>concurrencyKey</c> (a tenant, a customer). Null:
/// no limit of that kind. Jobs over a limit wait <c>queued</c> and start in priority, then arrival, order as slots free
/// up (<see cref="Concurrency.SlotGate"/>).
/// </summary>
public sealed record JobConcurrency(int? MaxRunning = null, int? MaxPerKey = null)
{
    /// <summary>Most holders one type's slot row keeps (they are one JSON column, changed under its ETag).</summary>
    public const int MaxSlots = 200;

    public static readonly JobConcurrency Unlimited = new();

    /// <summary>True when a limit applies, so running jobs hold slots.</summary>
    public bool IsLimited => MaxRunning is not null || MaxPerKey is not null;
}
