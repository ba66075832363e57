using Jobs.Functions.Artifacts;

namespace Jobs.UnitTests.Artifacts;

public sealed class CappedStreamTests
{
    [Fact]
    public async Task Read_UpToTheCap_PassesEverythingThrough()
    {
        using var inner = new MemoryStream(new byte[10]);
        using var capped = new CappedStream(inner, 10, "it");
        await capped.CopyToAsync(Stream.Null);
        Assert.Equal(10, capped.BytesRead);
    }

    [Fact]
    public async Task Read_PastTheCap_Throws()
    {
        using var inner = new MemoryStream(new byte[11]);
        using var capped = new CappedStream(inner, 10, "it");
        var refused = await Assert.ThrowsAsync<ArtifactTooLargeException>(() => capped.CopyToAsync(Stream.Null));
        Assert.Contains("10 bytes", refused.Message, StringComparison.Ordinal);
    }
}
