using Jobs.Functions.Hosting;
using Jobs.Functions.Identity;
using Jobs.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Jobs.UnitTests.Identity;

public sealed class CallerResolverTests
{
    private static HttpRequest Request(string? principal)
    {
        var context = new DefaultHttpContext();
        if (principal is not null)
        {
            context.Request.Headers[CallerResolver.PrincipalHeader] = principal;
        }
        return context.Request;
    }

    private static CallerResolver Resolver(bool? trust = true, string? devIdentity = null, string? devRoles = null, string? websiteAuthEnabled = null) =>
        new(Options.Create(new IdentityOptions { TrustClientPrincipal = trust, DevelopmentIdentity = devIdentity, DevelopmentRoles = devRoles }),
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                [IdentityOptions.AppServiceAuthenticationSetting] = websiteAuthEnabled,
            }).Build());

    [Fact]
    public void Resolve_Principal_ReadsIdNameAndRoles()
    {
        var caller = Resolver().Resolve(Request(Principals.Header("user-1", "admin", "reader")))!;
        Assert.Equal("user-1", caller.Id);
        Assert.Equal("user-1@example.test", caller.Name);
        Assert.True(caller.IsAdmin);
        Assert.Contains("reader", caller.Roles);
        Assert.Equal("aad", caller.IdentityProvider);
    }

    [Fact]
    public void Resolve_NoPrincipal_NoDevIdentity_IsAnonymous() => Assert.Null(Resolver().Resolve(Request(null)));

    [Fact]
    public void Resolve_DevIdentity_OnlyWhenConfigured()
    {
        var caller = Resolver(devIdentity: "dev", devRoles: "admin, ops").Resolve(Request(null))!;
        Assert.Equal("dev", caller.Id);
        Assert.True(caller.IsAdmin);
        Assert.Contains("ops", caller.Roles);
        Assert.Equal(Caller.DevelopmentProvider, caller.IdentityProvider);
    }

    [Fact]
    public void Resolve_UntrustedPrincipal_IsIgnored() =>
        Assert.Null(Resolver(trust: false).Resolve(Request(Principals.Header("mallory", "admin"))));

    [Fact]
    public void Resolve_TrustUnset_WithoutAppServiceAuthentication_IgnoresThePrincipal() =>
        Assert.Null(Resolver(trust: null).Resolve(Request(Principals.Header("mallory", "admin"))));

    [Fact]
    public void Resolve_TrustUnset_WithoutAppServiceAuthentication_ActsAsTheDevelopmentIdentity_NotTheHeader()
    {
        var caller = Resolver(trust: null, devIdentity: "dev").Resolve(Request(Principals.Header("mallory", "admin")))!;
        Assert.Equal("dev", caller.Id);
        Assert.False(caller.IsAdmin);
    }

    [Theory]
    [InlineData("True")]
    [InlineData("true")]
    public void Resolve_TrustUnset_AppServiceAuthenticationOn_TrustsThePrincipal(string websiteAuthEnabled)
    {
        var caller = Resolver(trust: null, websiteAuthEnabled: websiteAuthEnabled).Resolve(Request(Principals.Header("user-1", "admin")))!;
        Assert.Equal("user-1", caller.Id);
        Assert.True(caller.IsAdmin);
    }

    [Theory]
    [InlineData("False")]
    [InlineData("")]
    [InlineData("yes")]
    public void Resolve_TrustUnset_AppServiceAuthenticationNotClearlyOn_IgnoresThePrincipal(string websiteAuthEnabled) =>
        Assert.Null(Resolver(trust: null, websiteAuthEnabled: websiteAuthEnabled).Resolve(Request(Principals.Header("mallory", "admin"))));

    [Fact]
    public void Resolve_ExplicitFalse_WinsOverAppServiceAuthentication() =>
        Assert.Null(Resolver(trust: false, websiteAuthEnabled: "True").Resolve(Request(Principals.Header("mallory", "admin"))));

    [Fact]
    public void Resolve_ExplicitTrue_TrustsThePrincipal_WithoutAppServiceAuthentication() =>
        Assert.Equal("user-1", Resolver(trust: true).Resolve(Request(Principals.Header("user-1")))!.Id);

    /// <summary>The same rules through the app's registrations: the setting and WEBSITE_AUTH_ENABLED come from configuration.</summary>
    [Theory]
    [InlineData(null, null, false)]
    [InlineData(null, "True", true)]
    [InlineData("", "True", true)]
    [InlineData("false", "True", false)]
    [InlineData("true", null, true)]
    public void AddJobs_ReadsTrustFromConfiguration(string? trustSetting, string? websiteAuthEnabled, bool trusted)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Jobs:Identity:TrustClientPrincipal"] = trustSetting,
            [IdentityOptions.AppServiceAuthenticationSetting] = websiteAuthEnabled,
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddJobs().BuildServiceProvider();

        var caller = services.GetRequiredService<CallerResolver>().Resolve(Request(Principals.Header("user-1", "admin")));

        Assert.Equal(trusted ? "user-1" : null, caller?.Id);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("bm90IGpzb24=")]
    [InlineData("eyJjbGFpbXMiOltdfQ==")]
    public void Parse_Garbage_IsRefused(string header) =>
        Assert.Throws<InvalidPrincipalException>(() => CallerResolver.Parse(header));

    [Fact]
    public void CanAccess_OwnerOrAdminOnly()
    {
        var alice = new Caller("alice", null, new HashSet<string>());
        var admin = new Caller("root", null, new HashSet<string> { Caller.AdminRole });
        Assert.True(alice.CanAccess("alice"));
        Assert.False(alice.CanAccess("bob"));
        Assert.True(admin.CanAccess("bob"));
    }
}
