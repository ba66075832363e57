using System.Text;
using System.Text.Json;

namespace Jobs.Tests.Infrastructure;

/// <summary>Builds <c>x-ms-client-principal</c> values as App Service Authentication sends them.</summary>
public static class Principals
{
    public static string Header(string userId, params string[] roles)
    {
        var claims = new List<object>
        {
            new { typ = "http://schemas.microsoft.com/identity/claims/objectidentifier", val = userId },
            new { typ = "name", val = userId + "@example.test" },
        };
        claims.AddRange(roles.Select(r => new { typ = "roles", val = r }));
        var json = JsonSerializer.Serialize(new { auth_typ = "aad", name_typ = "name", role_typ = "roles", claims });
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
    }
}
