using Jobs.Functions.Handlers;

namespace Jobs.Functions.Concurrency;

/// <summary>A job that holds one of its type's running slots, and the key it counts against.</summary>
public sealed record SlotHolder(string JobId, string Key);

/// <summary>
/// A job waiting for a slot: <paramref name="Priority"/> 0–9 (higher first), then <paramref name="ArrivedAt"/> (its
/// creation), then its id — the order <see cref="SlotGate.Order"/> gives and the waiting rows' keys sort in.
/// </summary>
public sealed record SlotWaiter(string JobId, string Key, int Priority, DateTimeOffset ArrivedAt);

/// <summary>
/// The rules of a type's slots, without storage: who may start now, in what order, and where a waiting job stands.
/// <see cref="JobSlots"/> applies them to the slot row under its ETag, so two instances never both grant the last slot.
/// </summary>
public static class SlotGate
{
    /// <summary>The key a job counts against: its own, or the type's default key ("").</summary>
    public static string KeyOf(string? concurrencyKey) => concurrencyKey ?? "";

    /// <summary>Waiters in start order: priority (9 first), then arrival, then id (a total order, as the row keys).</summary>
    public static IEnumerable<SlotWaiter> Order(IEnumerable<SlotWaiter> waiters) =>
        waiters.OrderByDescending(w => w.Priority).ThenBy(w => w.ArrivedAt).ThenBy(w => w.JobId, StringComparer.Ordinal);

    /// <summary>True when one more job with <paramref name="key"/> fits beside <paramref name="holders"/>.</summary>
    public static bool Fits(IReadOnlyCollection<SlotHolder> holders, string key, JobConcurrency limits) =>
        (limits.MaxRunning is not { } max || holders.Count < max)
        && (limits.MaxPerKey is not { } perKey || holders.Count(h => h.Key == key) < perKey)
        && (!limits.IsLimited || holders.Count < JobConcurrency.MaxSlots);

    /// <summary>
    /// The waiters that start now, in order: walking the queue in <see cref="Order"/>, each that fits beside the holders
    /// (and those granted before it) is granted. A waiter whose key is full is passed over, not waited for — another
    /// key's job behind it may start — but within one key the order is kept, since a later job of that key cannot fit
    /// where an earlier one did not. A paused type grants none. At most <paramref name="max"/> are granted (one
    /// transaction's room).
    /// </summary>
    public static IReadOnlyList<SlotWaiter> Grant(
        IReadOnlyCollection<SlotHolder> holders, IEnumerable<SlotWaiter> waiters, JobConcurrency limits, bool paused, int max = int.MaxValue)
    {
        if (paused)
        {
            return [];
        }
        var held = new List<SlotHolder>(holders);
        var granted = new List<SlotWaiter>();
        foreach (var waiter in Order(waiters))
        {
            if (granted.Count >= max || (limits.MaxRunning is { } most && held.Count >= most))
            {
                break;
            }
            if (Fits(held, waiter.Key, limits))
            {
                granted.Add(waiter);
                if (limits.IsLimited)
                {
                    held.Add(new SlotHolder(waiter.JobId, waiter.Key));
                }
            }
        }
        return granted;
    }

    /// <summary>
    /// A waiting job's place in line, 1 for the next to start: one more than the waiters ahead of it in start order that
    /// count against the same limit — those of its key when the type limits per key, else every waiter of the type.
    /// Null when it is not waiting.
    /// </summary>
    public static int? Position(IEnumerable<SlotWaiter> waiters, string jobId, JobConcurrency limits)
    {
        var ordered = Order(waiters).ToList();
        var index = ordered.FindIndex(w => w.JobId == jobId);
        if (index < 0)
        {
            return null;
        }
        var key = ordered[index].Key;
        return 1 + ordered.Take(index).Count(w => limits.MaxPerKey is null || w.Key == key);
    }
}
