namespace Jobs.Functions.Identity;

/// <summary>
/// Who is calling: a stable id (the job owner key), a display name, roles, and the identity provider that signed them in
/// (App Service Authentication's <c>auth_typ</c>, e.g. <c>aad</c>; <c>development</c> for the development identity).
/// </summary>
public sealed record Caller(string Id, string? Name, IReadOnlySet<string> Roles, string? IdentityProvider = null)
{
    /// <summary>The identity provider of the development identity (<see cref="IdentityOptions.DevelopmentIdentity"/>).</summary>
    public const string DevelopmentProvider = "development";

    public const string AdminRole = "admin";

    public bool IsAdmin => Roles.Contains(AdminRole);

    /// <summary>Owners see their own jobs; admins see all.</summary>
    public bool CanAccess(string owner) => IsAdmin || string.Equals(owner, Id, StringComparison.Ordinal);
}
