using System.Text;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Storage;

/// <summary>The pure parts of a listing stopped by its request budget: the merge's stop point, the cursor, the continuation key.</summary>
public sealed class BoundedListingTests
{
    private static readonly JobListQuery Query = new() { Scope = new JobListScope.All(), OrderBy = JobOrder.Status };

    private static string Key(int n) => $"cd-{n:D19}-{new string('a', 32)}";

    [Fact]
    public void Merge_TakesTheLowestHead_WhenItIsBelowEverySpentBucketsUnreadPart()
    {
        var (take, stop) = JobListIndex.NextInMerge([(Key(5), null), (Key(3), null), (null, Key(4)), (null, null)]);

        Assert.Equal((1, (string?)null), (take, stop));
    }

    [Fact]
    public void Merge_StopsAtTheLowestUnreadKey_WhenNoHeadIsBelowIt()
    {
        // Bucket 2 has read up to Key(4) and no further; bucket 3 up to Key(2): a row of bucket 3 may sort before Key(3).
        var (take, stop) = JobListIndex.NextInMerge([(Key(5), null), (Key(3), null), (null, Key(4)), (null, Key(2))]);

        Assert.Equal((-1, Key(2)), (take, stop));
    }

    [Fact]
    public void Merge_StopsAtAHeadEqualToTheUnreadKey_SoTheNextPageReadsItFrom()
    {
        Assert.Equal((-1, Key(3)), JobListIndex.NextInMerge([(Key(3), null), (null, Key(3))]));
    }

    [Fact]
    public void Merge_EndsWhenEveryBucketIsExhausted()
    {
        Assert.Equal((-1, (string?)null), JobListIndex.NextInMerge([(null, null), (null, null)]));
    }

    [Fact]
    public void Merge_WithOnlySpentBuckets_StopsAtTheLowestUnreadKey()
    {
        Assert.Equal((-1, Key(7)), JobListIndex.NextInMerge([(null, Key(9)), (null, Key(7))]));
    }

    [Fact]
    public void Cursor_AResumePoint_RoundTrips_InclusiveAndAtAPhasesStart()
    {
        var from = new ListCursor(2, Key(42), From: true);
        var start = new ListCursor(3, null, From: true);
        var after = new ListCursor(1, Key(7));

        Assert.Equal(from, ListCursor.Decode(from.Encode(Query), Query, 9));
        Assert.Equal(start, ListCursor.Decode(start.Encode(Query), Query, 9));
        Assert.Equal(after, ListCursor.Decode(after.Encode(Query), Query, 9));
    }

    [Fact]
    public void Cursor_FromBeforeTheBudget_StillMeansAfter()
    {
        // The five-part form every cursor had before resume points.
        var old = System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"v1|Status|desc|4|{Key(9)}"));

        Assert.Equal(new ListCursor(4, Key(9)), ListCursor.Decode(old, Query, 9));
    }

    [Theory]
    [InlineData("|")]
    [InlineData("|after")]
    [InlineData("|from|x")]
    public void Cursor_AnEmptyKeyOutsideAResumePoint_OrAnotherMark_IsRefused(string tail)
    {
        var forged = System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"v1|Status|desc|4{tail}"));

        Assert.Throws<InvalidCursorException>(() => ListCursor.Decode(forged, Query, 9));
    }

    [Fact]
    public void ContinuationKey_ReadsAzuresAndAzuritesForms()
    {
        var key = Key(12);
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes(key));
        var azure = plain.Replace('=', '-');

        Assert.Equal(key, ContinuationKeys.DecodeRowKey(plain));
        Assert.Equal(key, ContinuationKeys.DecodeRowKey($"1!{azure.Length}!{azure}"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("1!99!Y2QtMQ--")]
    [InlineData("AAEC")]
    public void ContinuationKey_InAnUnknownForm_IsUnknown(string? header)
    {
        Assert.Null(ContinuationKeys.DecodeRowKey(header));
    }
}
