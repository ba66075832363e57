using System.Text;
using System.Text.Json;

namespace Jobs.Client;

/// <summary>
/// The <c>x-ms-client-principal</c> header App Service Authentication sends for a signed-in user. In Azure the platform
/// sets it; a client sets it only against a local service that trusts it (the sample settings do), to act as a user.
/// </summary>
public static class AppServicePrincipal
{
    public const string HeaderName = "x-ms-client-principal";

    /// <summary>The header's value (base64 JSON) for <paramref name="userId"/> with <paramref name="roles"/>, named by the id.</summary>
    public static string Header(string userId, params string[] roles) => Header(userId, userId, roles);

    /// <summary>As above, with a display name (App Service sends the user's sign-in name, often an e-mail address).</summary>
    public static string Header(string userId, string name, string[] roles)
    {
        var claims = new List<object>
        {
            new { typ = "http://schemas.microsoft.com/identity/claims/objectidentifier", val = userId },
            new { typ = "name", val = name },
        };
        claims.AddRange(roles.Select(role => new { typ = "roles", val = role }));
        var principal = new { auth_typ = "aad", name_typ = "name", role_typ = "roles", claims };
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(principal)));
    }
}
