using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Sockets;

namespace Jobs.Functions.Api;

/// <summary>HTTP front-end settings, bound from <c>Jobs:Http</c>.</summary>
public sealed class HttpOptions : IValidatableObject
{
    public const string Section = "Jobs:Http";

    /// <summary>
    /// Comma-separated IP addresses and CIDR networks (<c>10.0.0.4</c>, <c>10.0.0.0/8</c>, <c>2001:db8::/32</c>) of the
    /// reverse proxies in front of the app. Only requests from these addresses may set, through <c>Forwarded</c> or
    /// <c>X-Forwarded-Proto</c>/<c>X-Forwarded-Host</c>, the scheme and host of the URLs the API hands out.
    /// Empty (the default): nobody may.
    /// </summary>
    public string? TrustedProxies { get; set; }

    /// <summary>
    /// The app's public address (<c>https://jobs.example.com</c>, optionally with a path <c>https://example.com/jobs</c>):
    /// when set, every URL the API hands out starts with it, whatever the request's headers say. Unset: a trusted
    /// proxy's forwarding headers, else <c>WEBSITE_HOSTNAME</c> (see <see cref="PublicUrls"/>).
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>
    /// Comma-separated origins (<c>https://portal.example.com</c>) of other sites whose pages may send requests that
    /// change state (see <see cref="CrossSiteRequests"/>). Empty (the default): only the app's own pages.
    /// </summary>
    public string? AllowedOrigins { get; set; }

    /// <summary>The parsed <see cref="PublicBaseUrl"/> without a trailing slash, or null when unset.</summary>
    public string? PublicBase() =>
        string.IsNullOrWhiteSpace(PublicBaseUrl) ? null
        : TryParseBaseUrl(PublicBaseUrl.Trim(), out var url) ? url
        : throw new FormatException($"{Section}:{nameof(PublicBaseUrl)}: '{PublicBaseUrl}' is not an absolute http or https URL.");

    /// <summary>The parsed <see cref="AllowedOrigins"/>, each as <c>scheme://host[:port]</c> in lower case.</summary>
    public IReadOnlySet<string> AllowedOriginSet()
    {
        var origins = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in Split(AllowedOrigins))
        {
            origins.Add(CrossSiteRequests.NormalizeOrigin(entry)
                ?? throw new FormatException($"{Section}:{nameof(AllowedOrigins)}: '{entry}' is not an origin (scheme://host[:port])."));
        }
        return origins;
    }

    /// <summary>The parsed <see cref="TrustedProxies"/>; throws <see cref="FormatException"/> naming a bad entry.</summary>
    public IReadOnlyList<IPNetwork> TrustedProxyNetworks()
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in Entries())
        {
            networks.Add(TryParseNetwork(entry, out var network)
                ? network
                : throw new FormatException($"{Section}:{nameof(TrustedProxies)}: '{entry}' is not an IP address or a CIDR network."));
        }
        return networks;
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var entry in Entries().Where(entry => !TryParseNetwork(entry, out _)))
        {
            yield return new ValidationResult(
                $"'{entry}' is not an IP address or a CIDR network (e.g. 10.0.0.4, 10.0.0.0/8, 2001:db8::/32).", [nameof(TrustedProxies)]);
        }
        if (!string.IsNullOrWhiteSpace(PublicBaseUrl) && !TryParseBaseUrl(PublicBaseUrl.Trim(), out _))
        {
            yield return new ValidationResult(
                $"'{PublicBaseUrl}' is not an absolute http or https URL without query, fragment or user info (e.g. https://jobs.example.com).",
                [nameof(PublicBaseUrl)]);
        }
        foreach (var entry in Split(AllowedOrigins).Where(entry => CrossSiteRequests.NormalizeOrigin(entry) is null))
        {
            yield return new ValidationResult(
                $"'{entry}' is not an origin: scheme://host[:port], http or https, no path (e.g. https://portal.example.com).", [nameof(AllowedOrigins)]);
        }
    }

    private IEnumerable<string> Entries() => Split(TrustedProxies);

    private static IEnumerable<string> Split(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool TryParseBaseUrl(string value, out string url)
    {
        url = "";
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0 || value.Contains('?', StringComparison.Ordinal)
            || value.Contains('#', StringComparison.Ordinal))
        {
            return false;
        }
        url = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return true;
    }

    private static bool TryParseNetwork(string entry, out IPNetwork network)
    {
        if (entry.Contains('/', StringComparison.Ordinal))
        {
            return IPNetwork.TryParse(entry, out network);
        }
        // A single address. IPAddress also reads shorthands such as "10.1" (10.0.0.1); a security setting should
        // say exactly what it means, so IPv4 needs its four parts.
        if (IPAddress.TryParse(entry, out var address)
            && (address.AddressFamily != AddressFamily.InterNetwork || entry.Count(c => c == '.') == 3))
        {
            address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        network = default;
        return false;
    }
}
