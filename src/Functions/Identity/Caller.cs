namespace Jobs.Functions.Identity;

/// <summary>Who is calling: a stable id (the job owner key), a display name and roles.</summary>
public sealed record Caller(string Id, string? Name, IReadOnlySet<string> Roles)
{
    public const string AdminRole = "admin";

    public bool IsAdmin => Roles.Contains(AdminRole);

    /// <summary>Owners see their own jobs; admins see all.</summary>
    public bool CanAccess(string owner) => IsAdmin || string.Equals(owner, Id, StringComparison.Ordinal);
}
