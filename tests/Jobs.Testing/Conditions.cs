namespace Jobs.Testing;

/// <summary>Bounded waits on a condition that is read asynchronously (storage, the API); the synchronous kind is <see cref="ListenerParts.WaitUntilAsync"/>.</summary>
public static class Conditions
{
    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; throws naming <paramref name="what"/> after 300 tries (30 s and the reads' own time).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException(what);
    }

    /// <summary>
    /// As above, giving up after <paramref name="within"/> — for what waits on a timer of the app's own (the reconciler),
    /// which a host restart (the runner's restart mode) can hold back until the timer's lock lease runs out.
    /// </summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (await condition())
            {
                return;
            }
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException(what);
            }
            await Task.Delay(100);
        }
    }
}
