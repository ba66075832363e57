using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// The host's keys and the host's rules for them (Azure/azure-functions-host: SecretManager.GetAuthorizationLevelAsync,
/// AuthUtility.PrincipalHasAuthLevelClaim, AuthenticationLevelHandler). A presented key is first compared with the
/// master key (admin level), then the system keys (system level, by name), then the host function keys (function
/// level). A route is open to its own level — a function route to a function key, a webhook to its named system key —
/// and to the master key; a system key therefore does not open a function route.
/// </summary>
public sealed record HostKeys(string? MasterKey, IReadOnlyDictionary<string, string> FunctionKeys, IReadOnlyDictionary<string, string> SystemKeys)
{
    public const string MasterKeyName = "master";
    public const string DefaultFunctionKeyName = "default";

    /// <summary>The Durable extension's webhook key: extension webhooks use the key named <c>{extension}_extension</c>.</summary>
    public const string DurableTaskSystemKeyName = "durabletask_extension";

    public const string KeyHeader = "x-functions-key";
    public const string KeyQueryParameter = "code";

    /// <summary>The key that opens the native Durable HTTP API (it is put into the management URLs).</summary>
    public string DurableTaskSystemKey => SystemKeys[DurableTaskSystemKeyName];

    /// <summary>Whether the key on <paramref name="request"/> opens a route that requires <paramref name="required"/>.</summary>
    public bool Authorizes(HttpRequest request, KeyRequirement required)
    {
        if (required.Level == AuthorizationLevel.Anonymous)
        {
            return true;
        }
        var (name, level) = Match(PresentedKey(request));
        return level == AuthorizationLevel.Admin
            || (level == required.Level && (required.KeyName is null || string.Equals(name, required.KeyName, StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>The key a request carries: the <c>x-functions-key</c> header wins over the <c>code</c> query parameter.</summary>
    public static string? PresentedKey(HttpRequest request) =>
        request.Headers.TryGetValue(KeyHeader, out var header) ? header.FirstOrDefault()
        : request.Query.TryGetValue(KeyQueryParameter, out var query) ? query.FirstOrDefault()
        : null;

    private (string? Name, AuthorizationLevel Level) Match(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return (null, AuthorizationLevel.Anonymous);
        }
        if (MasterKey is not null && SecretEquals(presented, MasterKey))
        {
            return (MasterKeyName, AuthorizationLevel.Admin);
        }
        foreach (var (name, value) in SystemKeys)
        {
            if (SecretEquals(presented, value))
            {
                return (name, AuthorizationLevel.System);
            }
        }
        foreach (var (name, value) in FunctionKeys)
        {
            if (SecretEquals(presented, value))
            {
                return (name, AuthorizationLevel.Function);
            }
        }
        return (null, AuthorizationLevel.Anonymous);
    }

    private static bool SecretEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}

/// <summary>What an endpoint demands when keys are on: a level, and for a webhook the name of its system key.</summary>
public sealed record KeyRequirement(AuthorizationLevel Level, string? KeyName = null);
