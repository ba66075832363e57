using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace Jobs.Client;

/// <summary>Settings of a registered <see cref="JobsClient"/>.</summary>
public sealed class JobsClientOptions
{
    /// <summary>The service, e.g. <c>https://myapp.azurewebsites.net</c> or <c>http://localhost:7071</c>.</summary>
    public Uri BaseAddress { get; set; } = new("http://localhost:7071");

    /// <summary>A function key, sent as <c>x-functions-key</c> (none locally unless keys are on).</summary>
    public string? FunctionKey { get; set; }
}

public static class JobsClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="JobsClient"/> as a typed <see cref="HttpClient"/> with the standard resilience pipeline of
    /// Microsoft.Extensions.Http.Resilience (retries with jittered back-off on 5xx, 408, 429 and network errors, honouring
    /// Retry-After; attempt and total timeouts; a circuit breaker). Retrying is safe: creates carry an idempotency key,
    /// cancel and reads are idempotent. The event stream's attempt timeout is lifted (it is a long response by design).
    /// </summary>
    public static IHttpClientBuilder AddJobsClient(this IServiceCollection services, Action<JobsClientOptions> configure)
    {
        var options = new JobsClientOptions();
        configure(options);
        var builder = services.AddHttpClient<JobsClient>(http =>
        {
            http.BaseAddress = options.BaseAddress;
            http.Timeout = Timeout.InfiniteTimeSpan; // the pipeline's timeouts apply; a stream may stay open for minutes
            if (options.FunctionKey is { } key)
            {
                http.DefaultRequestHeaders.Add("x-functions-key", key);
            }
        });
        builder.AddStandardResilienceHandler(resilience =>
        {
            resilience.AttemptTimeout.Timeout = TimeSpan.FromMinutes(3);
            resilience.TotalRequestTimeout.Timeout = TimeSpan.FromMinutes(10);
            resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromMinutes(7); // at least twice the attempt timeout
        });
        return builder;
    }
}
