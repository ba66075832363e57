namespace Jobs.Testing;

/// <summary>Builds <c>x-ms-client-principal</c> values as App Service Authentication sends them (Jobs.Client's builder).</summary>
public static class Principals
{
    public static string Header(string userId, params string[] roles) => Jobs.Client.AppServicePrincipal.Header(userId, userId + "@example.test", roles);
}
