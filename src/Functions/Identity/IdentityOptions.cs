namespace Jobs.Functions.Identity;

/// <summary>Identity settings, bound from <c>Jobs:Identity</c>.</summary>
public sealed class IdentityOptions
{
    public const string Section = "Jobs:Identity";

    /// <summary>
    /// Trust the <c>x-ms-client-principal</c> header. Only safe behind App Service Authentication, which strips
    /// the header from incoming requests and sets it itself. True by default: that is how the app is deployed.
    /// </summary>
    public bool TrustClientPrincipal { get; set; } = true;

    /// <summary>
    /// When set, requests without a principal act as this user. For local development only: never set it in Azure.
    /// </summary>
    public string? DevelopmentIdentity { get; set; }

    /// <summary>Comma-separated roles of the development identity, e.g. <c>admin</c>.</summary>
    public string? DevelopmentRoles { get; set; }
}
