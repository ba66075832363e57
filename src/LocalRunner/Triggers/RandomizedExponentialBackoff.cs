namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// The queue listener's polling delay, as the storage queues extension computes it (its
/// <c>RandomizedExponentialBackoffStrategy</c>, built by <c>QueueListener</c> with the 100 ms minimum, host.json's
/// <c>maxPollingInterval</c> as maximum, and the minimum as the step): after a poll that found messages, the minimum;
/// after each empty one, the minimum plus 2^(n-1) steps scaled by a random factor in [0.8, 1.2), until the maximum is
/// reached and kept. The jitter spreads the polls of many instances of an app over time.
/// </summary>
internal sealed class RandomizedExponentialBackoff(TimeSpan minimum, TimeSpan maximum, Random random)
{
    /// <summary>The extension's RandomizationFactor.</summary>
    public const double RandomizationFactor = 0.2;

    private readonly TimeSpan _maximum = maximum < minimum ? minimum : maximum;
    private TimeSpan _current;
    private uint _exponent;

    /// <summary>The delay before the next poll; <paramref name="foundMessages"/> says whether any poll since the last delay found messages.</summary>
    public TimeSpan Next(bool foundMessages)
    {
        if (foundMessages)
        {
            _current = minimum;
            _exponent = 1;
        }
        else if (_current != _maximum)
        {
            var interval = minimum;
            if (_exponent > 0)
            {
                var factor = 1.0 - RandomizationFactor + (random.NextDouble() * 2 * RandomizationFactor);
                interval += TimeSpan.FromMilliseconds(factor * Math.Pow(2.0, _exponent - 1) * minimum.TotalMilliseconds);
            }
            if (interval < _maximum)
            {
                _current = interval;
                _exponent++;
            }
            else
            {
                _current = _maximum;
            }
        }
        return _current;
    }
}
