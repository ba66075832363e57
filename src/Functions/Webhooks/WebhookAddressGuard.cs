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

    private const string Private = "a private address";
    private const string LinkLocal = "a link-local address";
    private const string Metadata = "a cloud metadata address";
    private const string Reserved = "a reserved address";
    private const string Loopback = "a loopback address";

    /// <summary>Cloud metadata and platform endpoints, named as such (checked before the ranges that hold them).</summary>
    private static readonly IPAddress[] s_metadata =
    [
        IPAddress.Parse("169.254.169.254"),     // AWS, Azure IMDS, GCP, Oracle
        IPAddress.Parse("168.63.129.16"),       // Azure's platform endpoint (wire server)
        IPAddress.Parse("100.100.100.200"),     // Alibaba
        IPAddress.Parse("fd00:ec2::254"),       // AWS over IPv6
    ];

    private static readonly (IPAddress Network, int Prefix, string Category)[] s_blocked4 =
    [
        (IPAddress.Parse("0.0.0.0"), 8, Reserved),        // "this network"
        (IPAddress.Parse("10.0.0.0"), 8, Private),
        (IPAddress.Parse("100.64.0.0"), 10, Private),     // carrier-grade NAT
        (IPAddress.Parse("127.0.0.0"), 8, Loopback),
        (IPAddress.Parse("169.254.0.0"), 16, LinkLocal),
        (IPAddress.Parse("172.16.0.0"), 12, Private),
        (IPAddress.Parse("192.0.0.0"), 24, Reserved),     // IETF protocol assignments
        (IPAddress.Parse("192.0.2.0"), 24, Reserved),     // documentation
        (IPAddress.Parse("192.168.0.0"), 16, Private),
        (IPAddress.Parse("198.18.0.0"), 15, Reserved),    // benchmarking
        (IPAddress.Parse("198.51.100.0"), 24, Reserved),  // documentation
        (IPAddress.Parse("203.0.113.0"), 24, Reserved),   // documentation
        (IPAddress.Parse("224.0.0.0"), 4, Reserved),      // multicast
        (IPAddress.Parse("240.0.0.0"), 4, Reserved),      // reserved, broadcast
    ];

    private static readonly (IPAddress Network, int Prefix, string Category)[] s_blocked6 =
    [
        (IPAddress.Parse("::"), 128, Reserved),           // unspecified
        (IPAddress.Parse("::"), 96, Reserved),            // IPv4-compatible (deprecated; some stacks tunnel it to the IPv4 address)
        (IPAddress.Parse("::ffff:0:0:0"), 96, Reserved),  // IPv4-translated (SIIT)
        (IPAddress.Parse("64:ff9b:1::"), 48, Reserved),   // local-use NAT64 (RFC 8215): the IPv4 inside may be any, private included
        (IPAddress.Parse("::1"), 128, Loopback),
        (IPAddress.Parse("fc00::"), 7, Private),          // unique local
        (IPAddress.Parse("fe80::"), 10, LinkLocal),
        (IPAddress.Parse("fec0::"), 10, Private),         // site-local (deprecated)
        (IPAddress.Parse("ff00::"), 8, Reserved),         // multicast
        (IPAddress.Parse("2001:db8::"), 32, Reserved),    // documentation
        (IPAddress.Parse("100::"), 64, Reserved),         // discard
    ];

    /// <summary>
    /// Why <paramref name="address"/> may not be connected to — its category (a private, loopback, link-local, cloud
    /// metadata or reserved address), never the address itself, so a refusal shown to a user or written to the delivery
    /// log does not reveal where an internal name resolves — or null when it may. Loopback is allowed only with
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
            return allowLoopback ? null : Loopback;
        }
        if (s_metadata.Contains(address))
        {
            return Metadata;
        }
        var blocked = address.AddressFamily == AddressFamily.InterNetwork ? s_blocked4 : s_blocked6;
        foreach (var (network, prefix, category) in blocked)
        {
            if (new IPNetwork(network, prefix).Contains(address))
            {
                return category;
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
            return "is not allowed: the address is " + refused;
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
