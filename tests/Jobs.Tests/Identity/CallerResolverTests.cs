using Jobs.Functions.Identity;
using Jobs.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Jobs.Tests.Identity;

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

    private static CallerResolver Resolver(bool trust = true, string? devIdentity = null, string? devRoles = null) =>
        new(Options.Create(new IdentityOptions { TrustClientPrincipal = trust, DevelopmentIdentity = devIdentity, DevelopmentRoles = devRoles }));

    [Fact]
    public void Resolve_Principal_ReadsIdNameAndRoles()
    {
        var caller = Resolver().Resolve(Request(Principals.Header("user-1", "admin", "reader")))!;
        Assert.Equal("user-1", caller.Id);
        Assert.Equal("user-1@example.test", caller.Name);
        Assert.True(caller.IsAdmin);
        Assert.Contains("reader", caller.Roles);
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
    }

    [Fact]
    public void Resolve_UntrustedPrincipal_IsIgnored() =>
        Assert.Null(Resolver(trust: false).Resolve(Request(Principals.Header("mallory", "admin"))));

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
