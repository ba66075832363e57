namespace Jobs.Functions.Handlers;

/// <summary>One named step of a handler: a durable activity the engine runs, retries and reports on.</summary>
/// <typeparam name="TInput">The handler's validated input type.</typeparam>
public sealed record JobStep<TInput>(string Name, Func<TInput, JobStepContext, Task<object?>> Run, StepRetryPolicy? Retry = null);
