using System.Net;
using System.Net.Sockets;

namespace Jobs.Functions.Webhooks;

/// <summary>
/// Where a webhook may be sent: https to a public address, nothing else (plain http and loopback only with
/// <see cref="WebhookOptions.AllowLoopbackHttp"/>, for local development). A URL is checked when a subscription is
/// created and again on every delivery, on the address actually connected to (<see cref="WebhookHttp"/>'s connect
/// callback), so a name that resolves elsewhere later (DNS rebinding) is still refused.
/// </summary>
public static class WebhookAddressGuard
{
    /// <summary>Longest URL accepted.</summary>
    public const int MaxUrlLength = 2048;

    private static readonly (IPAddress Network, int Prefix)[] s_blocked4 =
    [
        (IPAddress.Parse("0.0.0.0"), 8),        // "this network"
        (IPAddress.Parse("10.0.0.0"), 8),       // private
        (IPAddress.Parse("100.64.0.0"), 10),    // carrier-grade NAT (Alibaba's metadata 100.100.100.200 is here)
        (IPAddress.Parse("127.0.0.0"), 8),      // loopback
        (IPAddress.Parse("169.254.0.0"), 16),   // link-local, cloud metadata 169.254.169.254
        (IPAddress.Parse("172.16.0.0"), 12),    // private
        (IPAddress.Parse("192.0.0.0"), 24),     // IETF protocol assignments
        (IPAddress.Parse("192.0.2.0"), 24),     // documentation
        (IPAddress.Parse("192.168.0.0"), 16),   // private
        (IPAddress.Parse("198.18.0.0"), 15),    // benchmarking
        (IPAddress.Parse("198.51.100.0"), 24),  // documentation
        (IPAddress.Parse("203.0.113.0"), 24),   // documentation
        (IPAddress.Parse("224.0.0.0"), 4),      // multicast
        (IPAddress.Parse("240.0.0.0"), 4),      // reserved, broadcast
        (IPAddress.Parse("168.63.129.16"), 32), // Azure's platform endpoint (wire server)
    ];

    private static readonly (IPAddress Network, int Prefix)[] s_blocked6 =
    [
        (IPAddress.Parse("::"), 128),           // unspecified
        (IPAddress.Parse("::"), 96),            // IPv4-compatible (deprecated; some stacks tunnel it to the IPv4 address)
        (IPAddress.Parse("::ffff:0:0:0"), 96),  // IPv4-translated (SIIT)
        (IPAddress.Parse("64:ff9b:1::"), 48),   // local-use NAT64 (RFC 8215): the IPv4 inside may be any, private included
        (IPAddress.Parse("::1"), 128),          // loopback
        (IPAddress.Parse("fc00::"), 7),         // unique local (AWS's metadata fd00:ec2::254 is here)
        (IPAddress.Parse("fe80::"), 10),        // link-local
        (IPAddress.Parse("fec0::"), 10),        // site-local (deprecated)
        (IPAddress.Parse("ff00::"), 8),         // multicast
        (IPAddress.Parse("2001:db8::"), 32),    // documentation
        (IPAddress.Parse("100::"), 64),         // discard
    ];

    /// <summary>
    /// Why <paramref name="address"/> may not be connected to, or null when it may. Loopback is allowed only with
    /// <paramref name="allowLoopback"/>; IPv4 inside IPv6 (mapped, NAT64, 6to4) is judged by its IPv4 address.
    /// </summary>
    public static string? Refusal(IPAddress address, bool allowLoopback)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && Embedded4(address) is { } inner)
        {
            address = inner;
        }
        if (IPAddress.IsLoopback(address))
        {
            return allowLoopback ? null : $"{address} is a loopback address";
        }
        var blocked = address.AddressFamily == AddressFamily.InterNetwork ? s_blocked4 : s_blocked6;
        foreach (var (network, prefix) in blocked)
        {
            if (new IPNetwork(network, prefix).Contains(address))
            {
                return $"{address} is a private, link-local, metadata or reserved address";
            }
        }
        return null;
    }

    /// <summary>
    /// Checks a subscription's URL as written: absolute, https (http only to a loopback host with
    /// <paramref name="allowLoopbackHttp"/>), no user name or password, no fragment, and a literal address must pass
    /// <see cref="Refusal"/>. Returns the problem or null. Host names are resolved by <see cref="CheckResolvedAsync"/>.
    /// </summary>
    public static string? CheckUrl(string? url, bool allowLoopbackHttp, out Uri? parsed)
    {
        parsed = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            return "is required";
        }
        if (url.Length > MaxUrlLength)
        {
            return $"must be at most {MaxUrlLength} characters";
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || string.IsNullOrEmpty(uri.Host))
        {
            return "must be an absolute https URL";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "must not carry a user name or password";
        }
        if (!string.IsNullOrEmpty(uri.Fragment))
        {
            return "must not have a fragment";
        }
        var loopbackHost = uri.IsLoopback;
        if (uri.Scheme == "http" && !(allowLoopbackHttp && loopbackHost))
        {
            return allowLoopbackHttp ? "must use https (plain http is allowed only to a loopback host here)" : "must use https";
        }
        if (IPAddress.TryParse(uri.DnsSafeHost, out var literal) && Refusal(literal, allowLoopbackHttp) is { } refused)
        {
            return "is not allowed: " + refused;
        }
        if (loopbackHost && !allowLoopbackHttp)
        {
            return "is not allowed: a loopback host";
        }
        parsed = uri;
        return null;
    }

    /// <summary>
    /// Resolves the URL's host and refuses it when any address it resolves to is refused (or when it resolves to none):
    /// the check at creation. Delivery checks again, on the address it connects to.
    /// </summary>
    public static async Task<string?> CheckResolvedAsync(Uri uri, bool allowLoopback, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(uri.DnsSafeHost, out _))
        {
            return null; // a literal, checked by CheckUrl
        }
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(uri.DnsSafeHost, cancellationToken);
        }
        catch (SocketException)
        {
            return $"is not allowed: {uri.DnsSafeHost} does not resolve";
        }
        if (addresses.Length == 0)
        {
            return $"is not allowed: {uri.DnsSafeHost} does not resolve";
        }
        foreach (var address in addresses)
        {
            if (Refusal(address, allowLoopback) is { } refused)
            {
                return $"is not allowed: {uri.DnsSafeHost} resolves to {refused}";
            }
        }
        return null;
    }

    /// <summary>The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address, else null.</summary>
    private static IPAddress? Embedded4(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        if (new IPNetwork(IPAddress.Parse("64:ff9b::"), 96).Contains(address))
        {
            return new IPAddress(bytes[12..16]);
        }
        if (bytes[0] == 0x20 && bytes[1] == 0x02)
        {
            return new IPAddress(bytes[2..6]);
        }
        return null;
    }
}
