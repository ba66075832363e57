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

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        Entries().Where(entry => !TryParseNetwork(entry, out _)).Select(entry => new ValidationResult(
            $"'{entry}' is not an IP address or a CIDR network (e.g. 10.0.0.4, 10.0.0.0/8, 2001:db8::/32).", [nameof(TrustedProxies)]));

    private IEnumerable<string> Entries() =>
        (TrustedProxies ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

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
