using Azure.Identity;
using Jobs.Functions.Observability;

namespace Jobs.UnitTests.Observability;

/// <summary>The worker's Application Insights exporter authenticates as the host does, from APPLICATIONINSIGHTS_AUTHENTICATION_STRING.</summary>
public sealed class IngestionCredentialTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ClientId=abc")]
    [InlineData("Authorization=Key")]
    public void WithoutAad_NoCredential(string? setting) => Assert.Null(TelemetryRegistration.IngestionCredential(setting));

    [Theory]
    [InlineData("ClientId=3f0c2f7e-0000-4000-8000-000000000001;Authorization=AAD")]
    [InlineData("Authorization=aad")]
    public void WithAad_TheManagedIdentity(string setting) =>
        Assert.IsType<ManagedIdentityCredential>(TelemetryRegistration.IngestionCredential(setting));
}
