namespace Jobs.Testing;

/// <summary>Bounded waits on a condition that is read asynchronously (storage, the API); the synchronous kind is <see cref="ListenerParts.WaitUntilAsync"/>.</summary>
public static class Conditions
{
    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; throws naming <paramref name="what"/> after 30 s.</summary>
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
}
