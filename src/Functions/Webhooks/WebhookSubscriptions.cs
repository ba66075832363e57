using System.Security.Cryptography;
using Jobs.Functions.Handlers;
using Jobs.Functions.Identity;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Webhooks;

/// <summary>Thrown when an owner already has <see cref="WebhookOptions.MaxPerOwner"/> subscriptions.</summary>
public sealed class WebhookLimitException(int max) : Exception($"At most {max} webhook subscriptions per owner; delete one first.")
{
    public int Max { get; } = max;
}

/// <summary>Thrown when a caller who is not an admin asks for every owner's jobs.</summary>
public sealed class WebhookScopeException() : Exception("Only admins may subscribe to every owner's jobs (allJobs).");

/// <summary>
/// The rules of subscribing: what a request must say (each error names its field), who may subscribe to what, the cap
/// per owner, and the secret — 32 random bytes in the Standard Webhooks form <c>whsec_{base64}</c>, returned once.
/// Nothing is stored unless every check passes.
/// </summary>
public sealed class WebhookSubscriptions(WebhookStore store, JobHandlerRegistry handlers, IOptions<WebhookOptions> options, TimeProvider time)
{
    public const int MaxJobTypes = 20;
    public const int MaxDescription = 200;

    public async Task<WebhookSubscription> CreateAsync(WebhookSubscriptionRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var allowLoopback = options.Value.AllowLoopbackHttp;
        var errors = new List<InputError>();
        if (WebhookAddressGuard.CheckUrl(request.Url, allowLoopback, out var url) is { } badUrl)
        {
            errors.Add(new InputError("url", badUrl));
        }
        if (request.Events is null || request.Events.Count == 0)
        {
            errors.Add(new InputError("events", $"must list at least one of {string.Join(", ", WebhookEvents.All)}"));
        }
        else
        {
            for (var i = 0; i < request.Events.Count; i++)
            {
                if (!WebhookEvents.All.Contains(request.Events[i], StringComparer.Ordinal))
                {
                    errors.Add(new InputError($"events[{i}]", $"is not a known event (known: {string.Join(", ", WebhookEvents.All)})"));
                }
            }
            if (request.Events.Distinct(StringComparer.Ordinal).Count() != request.Events.Count)
            {
                errors.Add(new InputError("events", "lists an event twice"));
            }
        }
        if (request.JobTypes is { } types)
        {
            if (types.Count is 0 or > MaxJobTypes)
            {
                errors.Add(new InputError("jobTypes", $"must list 1 to {MaxJobTypes} job types, or be left out for every type"));
            }
            for (var i = 0; i < types.Count; i++)
            {
                if (!handlers.TryGet(types[i] ?? "", out _))
                {
                    errors.Add(new InputError($"jobTypes[{i}]", "is not a known job type (GET /api/job-types lists them)"));
                }
            }
        }
        if (request.Description is { Length: > MaxDescription })
        {
            errors.Add(new InputError("description", $"must be at most {MaxDescription} characters"));
        }
        if (errors.Count > 0)
        {
            throw new InputValidationException(errors);
        }
        if (request.AllJobs && !caller.IsAdmin)
        {
            throw new WebhookScopeException();
        }
        // Resolved last: a name pointing at a private address is refused here and again on every delivery.
        if (await WebhookAddressGuard.CheckResolvedAsync(url!, allowLoopback, cancellationToken) is { } refused)
        {
            throw new InputValidationException([new InputError("url", refused)]);
        }
        var max = options.Value.MaxPerOwner;
        if ((await store.ListAsync(caller.Id, cancellationToken)).Count >= max)
        {
            throw new WebhookLimitException(max);
        }
        var now = time.GetUtcNow();
        var subscription = new WebhookSubscription
        {
            Id = Guid.NewGuid().ToString("N"),
            Owner = caller.Id,
            Url = url!.AbsoluteUri,
            Events = [.. request.Events!],
            JobTypes = request.JobTypes is null ? null : [.. request.JobTypes.Distinct(StringComparer.Ordinal)],
            AllJobs = request.AllJobs,
            AllJobsUntil = request.AllJobs ? now.AddDays(options.Value.AllJobsDays) : null,
            Description = request.Description,
            CreatedAt = now,
            Secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        };
        await store.AddAsync(subscription, cancellationToken);
        return subscription;
    }
}
