using Jobs.Functions.Api;
using Microsoft.Extensions.Configuration;

namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// <c>WEBSITE_HOSTNAME</c> as Core Tools sets it for the host and the worker (StartHostAction: the authority it serves
/// on, <c>localhost:7071</c> by default): here the authority the runner's server listens on, read from the server once
/// it has bound its address (with port 0, as tests ask, the port is known only then); a wildcard address
/// (<c>0.0.0.0</c>, <c>[::]</c>, <c>+</c>, <c>*</c>) is named <c>localhost</c>. A value from the environment or the
/// runner's settings wins, as an environment variable wins under Core Tools.
/// </summary>
internal sealed class ListeningHostName : ConfigurationProvider, IConfigurationSource
{
    private string? _value;

    /// <summary>The server's addresses (<c>WebApplication.Urls</c>), set once the app is built.</summary>
    public Func<IEnumerable<string>>? Addresses { get; set; }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    public override bool TryGet(string key, out string? value)
    {
        value = string.Equals(key, PublicUrls.HostNameSetting, StringComparison.OrdinalIgnoreCase) ? Resolve() : null;
        return value is not null;
    }

    public override void Set(string key, string? value)
    {
        // Read-only: the address is the server's.
    }

    public override IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath) =>
        parentPath is null && Resolve() is not null ? earlierKeys.Append(PublicUrls.HostNameSetting).Order(StringComparer.OrdinalIgnoreCase) : earlierKeys;

    private string? Resolve()
    {
        if (_value is null && Addresses is { } addresses)
        {
            _value = addresses().Select(Authority).FirstOrDefault(a => a is not null);
        }
        return _value;
    }

    /// <summary>The <c>host:port</c> of a bound address; null while its port is still 0 (not bound yet).</summary>
    internal static string? Authority(string address)
    {
        // Kestrel's wildcards are not valid URI hosts; they mean every interface, which this machine calls localhost.
        var normalized = address.Replace("://+:", "://localhost:", StringComparison.Ordinal)
            .Replace("://*:", "://localhost:", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || uri.Port <= 0)
        {
            return null;
        }
        var host = uri.Host is "0.0.0.0" or "[::]" ? "localhost" : uri.Host;
        return $"{host}:{uri.Port}";
    }
}
