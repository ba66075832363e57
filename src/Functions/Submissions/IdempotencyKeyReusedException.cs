namespace Jobs.Functions.Submissions;

/// <summary>An idempotency key already used by this owner for a request with another body: nothing was created.</summary>
public sealed class IdempotencyKeyReusedException(string key)
    : Exception($"The idempotency key '{key}' was already used for a different request; send the same request to get its job, or use a new key.")
{
    public string Key { get; } = key;
}
