using Microsoft.Extensions.Configuration;

namespace Jobs.Functions.Identity;

/// <summary>Identity settings, bound from <c>Jobs:Identity</c>.</summary>
public sealed class IdentityOptions
{
    public const string Section = "Jobs:Identity";

    /// <summary>
    /// The app setting App Service sets to <c>True</c> when App Service Authentication (Easy Auth) is on for the app.
    /// Read from the root of the configuration, which includes the environment.
    /// </summary>
    public const string AppServiceAuthenticationSetting = "WEBSITE_AUTH_ENABLED";

    /// <summary>
    /// Trust the <c>x-ms-client-principal</c> header. It is only safe behind App Service Authentication, which strips
    /// the header from incoming requests and sets it itself; anywhere else a caller with a function key could send a
    /// forged admin principal. Unset (the default): trusted exactly when <see cref="AppServiceAuthenticationSetting"/>
    /// says App Service Authentication is on. <c>true</c>: always trusted (local development, tests). <c>false</c>:
    /// never trusted, whatever the platform says.
    /// </summary>
    public bool? TrustClientPrincipal { get; set; }

    /// <summary>
    /// When set, requests without a principal act as this user. For local development only: never set it in Azure.
    /// </summary>
    public string? DevelopmentIdentity { get; set; }

    /// <summary>Comma-separated roles of the development identity, e.g. <c>admin</c>.</summary>
    public string? DevelopmentRoles { get; set; }

    /// <summary>Whether the principal header is trusted, given <paramref name="configuration"/> (for the platform's setting).</summary>
    public bool TrustsClientPrincipal(IConfiguration configuration) =>
        TrustClientPrincipal ?? (bool.TryParse(configuration[AppServiceAuthenticationSetting], out var enabled) && enabled);
}
