using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Api;

/// <summary>
/// The public base URL (scheme, host, path base) of the app, for the links and <c>Location</c> headers the API hands
/// out. Never the request's own <c>Host</c> header, which the caller chooses. In order:
/// <list type="number">
/// <item><see cref="HttpOptions.PublicBaseUrl"/> when configured: always that.</item>
/// <item>A front end's <c>Forwarded</c> (RFC 7239 <c>proto=</c>, <c>host=</c>) or, failing that,
/// <c>X-Forwarded-Proto</c>/<c>X-Forwarded-Host</c>, honoured only when the request comes from one of
/// <see cref="HttpOptions.TrustedProxies"/>; from anyone else they are ignored.</item>
/// <item><c>WEBSITE_HOSTNAME</c>, the app's own address: Azure sets it to the app's default host name, Core Tools and
/// the local runner to the address they serve on (<c>localhost:7071</c>). As the Functions host builds its webhook
/// URLs from it (DefaultScriptWebHookProvider), the scheme is https, except for a loopback name, where it is the
/// scheme the request came in on.</item>
/// </list>
/// With none of them there is no address to hand out, and the request fails (500, logged) rather than echo its Host.
/// </summary>
/// <remarks>
/// The peer is <see cref="ConnectionInfo.RemoteIpAddress"/>. Under the Functions host that is already the address the
/// host reports in <c>X-Forwarded-For</c> (the worker's ASP.NET Core integration applies it), in the local runner the
/// TCP peer. Of a header listing several hops, only the last one — added by the trusted proxy itself — is used.
/// </remarks>
public sealed partial class PublicUrls(IOptions<HttpOptions> options, IConfiguration configuration)
{
    /// <summary>The app's own host name and port, as the platform (Azure, Core Tools, the local runner) sets it.</summary>
    public const string HostNameSetting = "WEBSITE_HOSTNAME";

    private readonly IReadOnlyList<IPNetwork> _trustedProxies = options.Value.TrustedProxyNetworks();
    private readonly string? _publicBase = options.Value.PublicBase();

    public string BaseUrl(HttpRequest request)
    {
        if (_publicBase is not null)
        {
            return _publicBase;
        }
        string? scheme = null;
        string? host = null;
        if (IsTrustedProxy(request.HttpContext.Connection.RemoteIpAddress))
        {
            var forwarded = LastElement(request.Headers["Forwarded"]);
            scheme = Proto(forwarded.GetValueOrDefault("proto")) ?? Proto(LastValue(request.Headers["X-Forwarded-Proto"]));
            host = Host(forwarded.GetValueOrDefault("host")) ?? Host(LastValue(request.Headers["X-Forwarded-Host"]));
        }
        if (scheme is null || host is null)
        {
            var own = Host(configuration[HostNameSetting])
                ?? throw new InvalidOperationException(
                    $"No public address to build URLs from: set {HttpOptions.Section}:{nameof(HttpOptions.PublicBaseUrl)} ({HostNameSetting} is not set).");
            host ??= own;
            scheme ??= IsLoopback(own) ? request.Scheme : "https";
        }
        return $"{scheme}://{host}{request.PathBase}";
    }

    /// <summary>
    /// The app's base URL where no request is at hand (the links in events and webhooks): <see cref="HttpOptions.PublicBaseUrl"/>,
    /// else <c>WEBSITE_HOSTNAME</c> (https, or http for a loopback name); null when neither is set.
    /// </summary>
    public string? ServiceBaseUrl() =>
        _publicBase ?? (Host(configuration[HostNameSetting]) is { } own ? $"{(IsLoopback(own) ? "http" : "https")}://{own}" : null);

    /// <summary>The origin (<c>scheme://host[:port]</c>, lower case) of <see cref="BaseUrl"/>: what the app's own pages send as <c>Origin</c>.</summary>
    public string Origin(HttpRequest request) => CrossSiteRequests.NormalizeOrigin(new Uri(BaseUrl(request)).GetLeftPart(UriPartial.Authority))!;

    /// <summary>
    /// Where the request came from, for the audit trail: the last hop of <c>Forwarded</c> (<c>for=</c>) or, failing that,
    /// of <c>X-Forwarded-For</c> — the one the proxy itself added — when the peer is one of
    /// <see cref="HttpOptions.TrustedProxies"/>; otherwise the peer itself (from anyone else those headers are the
    /// caller's own words, and ignored). Null when the peer is unknown.
    /// </summary>
    public string? ClientAddress(HttpRequest request)
    {
        var peer = request.HttpContext.Connection.RemoteIpAddress;
        if (IsTrustedProxy(peer))
        {
            var forwarded = Address(LastElement(request.Headers["Forwarded"]).GetValueOrDefault("for"))
                ?? Address(LastValue(request.Headers["X-Forwarded-For"]));
            if (forwarded is not null)
            {
                return forwarded.ToString();
            }
        }
        return peer is null ? null : (peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer).ToString();
    }

    /// <summary>An IP address, with or without a port (<c>192.0.2.1:4711</c>, <c>[2001:db8::1]:4711</c>); anything else (<c>unknown</c>, an obfuscated name) is null.</summary>
    private static IPAddress? Address(string? value) =>
        value is null ? null
        : IPAddress.TryParse(value.Trim('[', ']'), out var address) ? address
        : IPEndPoint.TryParse(value, out var endpoint) ? endpoint.Address
        : null;

    private static bool IsLoopback(string host)
    {
        var name = host.StartsWith('[') ? host[..(host.IndexOf(']', StringComparison.Ordinal) + 1)]
            : host.Split(':')[0];
        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(name.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }

    public bool IsTrustedProxy(IPAddress? address)
    {
        if (address is null || _trustedProxies.Count == 0)
        {
            return false;
        }
        // A dual-mode socket reports an IPv4 client as ::ffff:a.b.c.d; match it against the IPv4 entries.
        var peer = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return _trustedProxies.Any(network => network.Contains(peer));
    }

    private static string? Proto(string? value) =>
        value is null ? null
        : value.Equals("https", StringComparison.OrdinalIgnoreCase) ? "https"
        : value.Equals("http", StringComparison.OrdinalIgnoreCase) ? "http"
        : null;

    /// <summary>A host name or IP literal with an optional port; anything else (a path, user info, spaces) is ignored.</summary>
    private static string? Host(string? value) => value is not null && value.Length <= 255 && HostPattern().IsMatch(value) ? value : null;

    private static string? LastValue(Microsoft.Extensions.Primitives.StringValues values) =>
        string.Join(',', values.ToArray()).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).LastOrDefault();

    /// <summary>The parameters of the last element of a <c>Forwarded</c> header (names lower-cased, quoted values unquoted).</summary>
    private static Dictionary<string, string> LastElement(Microsoft.Extensions.Primitives.StringValues values)
    {
        var elements = Split(string.Join(',', values.ToArray()), ',');
        var last = elements.LastOrDefault(e => !string.IsNullOrWhiteSpace(e)) ?? "";
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in Split(last, ';'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                parameters[pair[..equals].Trim().ToLowerInvariant()] = Unquote(pair[(equals + 1)..].Trim());
            }
        }
        return parameters;
    }

    /// <summary>Splits on <paramref name="separator"/> outside quoted strings.</summary>
    private static List<string> Split(string text, char separator)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted && c == '\\' && i + 1 < text.Length)
            {
                current.Append(c).Append(text[++i]);
                continue;
            }
            if (c == '"')
            {
                quoted = !quoted;
            }
            if (c == separator && !quoted)
            {
                parts.Add(current.ToString());
                current.Clear();
                continue;
            }
            current.Append(c);
        }
        parts.Add(current.ToString());
        return parts;
    }

    private static string Unquote(string value)
    {
        if (value.Length < 2 || value[0] != '"' || value[^1] != '"')
        {
            return value;
        }
        var unquoted = new StringBuilder();
        for (var i = 1; i < value.Length - 1; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length - 1)
            {
                i++;
            }
            unquoted.Append(value[i]);
        }
        return unquoted.ToString();
    }

    [GeneratedRegex(@"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$")]
    private static partial Regex HostPattern();
}
