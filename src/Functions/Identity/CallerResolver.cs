using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Identity;

/// <summary>Raised when a request carries a principal header that cannot be read.</summary>
public sealed class InvalidPrincipalException(string message) : Exception(message);

/// <summary>
/// Reads the caller from App Service Authentication's <c>x-ms-client-principal</c> (base64 JSON with
/// <c>claims</c>, <c>name_typ</c>, <c>role_typ</c>) where that header is trusted (see
/// <see cref="IdentityOptions.TrustClientPrincipal"/>), or the development identity when one is configured.
/// </summary>
public sealed class CallerResolver(IOptions<IdentityOptions> options, IConfiguration configuration)
{
    public const string PrincipalHeader = "x-ms-client-principal";

    private static readonly string[] IdClaimTypes =
    [
        "http://schemas.microsoft.com/identity/claims/objectidentifier",
        "oid",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
        "sub",
    ];

    private readonly bool _trustPrincipal = options.Value.TrustsClientPrincipal(configuration);

    /// <summary>The caller, or null when the request is anonymous.</summary>
    public Caller? Resolve(HttpRequest request)
    {
        var settings = options.Value;
        if (_trustPrincipal && request.Headers.TryGetValue(PrincipalHeader, out var header) && !string.IsNullOrEmpty(header))
        {
            return Parse(header.ToString());
        }
        if (!string.IsNullOrWhiteSpace(settings.DevelopmentIdentity))
        {
            var roles = (settings.DevelopmentRoles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return new Caller(settings.DevelopmentIdentity, settings.DevelopmentIdentity, roles.ToHashSet(StringComparer.OrdinalIgnoreCase), Caller.DevelopmentProvider);
        }
        return null;
    }

    /// <summary>Decodes a principal header value.</summary>
    public static Caller Parse(string headerValue)
    {
        ClientPrincipal? principal;
        try
        {
            var json = Encoding.UTF8.GetString(Convert.FromBase64String(headerValue));
            principal = JsonSerializer.Deserialize<ClientPrincipal>(json);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or DecoderFallbackException)
        {
            throw new InvalidPrincipalException($"The {PrincipalHeader} header is not base64-encoded principal JSON.");
        }
        var claims = principal?.Claims ?? [];
        var nameType = principal?.NameType ?? "name";
        var roleType = principal?.RoleType ?? "roles";
        string? Claim(string type) => claims.FirstOrDefault(c => string.Equals(c.Type, type, StringComparison.OrdinalIgnoreCase))?.Value;

        var name = Claim(nameType);
        var id = IdClaimTypes.Select(Claim).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v)) ?? name;
        if (string.IsNullOrWhiteSpace(id) || id.Length > 256 || id.Any(char.IsControl))
        {
            throw new InvalidPrincipalException($"The {PrincipalHeader} header names no usable user id.");
        }
        var roles = claims
            .Where(c => string.Equals(c.Type, roleType, StringComparison.OrdinalIgnoreCase) || c.Type is "roles" or "role")
            .Select(c => c.Value)
            .Where(v => !string.IsNullOrWhiteSpace(v))
            .Cast<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var provider = principal?.AuthType is { Length: > 0 and <= 64 } authType && !authType.Any(char.IsControl) ? authType : null;
        return new Caller(id, name, roles, provider);
    }

    private sealed record ClientPrincipal(
        [property: System.Text.Json.Serialization.JsonPropertyName("auth_typ")] string? AuthType,
        [property: System.Text.Json.Serialization.JsonPropertyName("name_typ")] string? NameType,
        [property: System.Text.Json.Serialization.JsonPropertyName("role_typ")] string? RoleType,
        [property: System.Text.Json.Serialization.JsonPropertyName("claims")] IReadOnlyList<PrincipalClaim>? Claims);

    private sealed record PrincipalClaim(
        [property: System.Text.Json.Serialization.JsonPropertyName("typ")] string? Type,
        [property: System.Text.Json.Serialization.JsonPropertyName("val")] string? Value);
}
