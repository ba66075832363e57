using Jobs.Functions.Artifacts;

namespace Jobs.UnitTests.Artifacts;

/// <summary>The length Blob storage's 416 names (<c>Content-Range: bytes */length</c>), read so the 416 costs no request.</summary>
public sealed class UnsatisfiedRangeTests
{
    [Theory]
    [InlineData("bytes */25", 25L)]
    [InlineData("bytes */0", 0L)]
    [InlineData("Bytes */1099511627776", 1099511627776L)]
    public void LengthOfUnsatisfiedRange_ReadsTheLength(string header, long length) =>
        Assert.Equal(length, ArtifactStore.LengthOfUnsatisfiedRange(header));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("bytes 0-9/25")] // a satisfied range, not a 416's
    [InlineData("bytes */*")]
    [InlineData("bytes */-1")]
    [InlineData("bytes */ 25")]
    [InlineData("items */25")]
    public void LengthOfUnsatisfiedRange_IsNull_ForAnythingElse(string? header) =>
        Assert.Null(ArtifactStore.LengthOfUnsatisfiedRange(header));
}
