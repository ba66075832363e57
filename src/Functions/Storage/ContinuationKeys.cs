using System.Text;

namespace Jobs.Functions.Storage;

/// <summary>
/// Reads the RowKey a table query's continuation resumes at (<c>x-ms-continuation-NextRowKey</c>), so a listing that
/// stops on its request budget knows how far a partition's range is covered. The header is documented as opaque: Azure
/// answers <c>1!{length}!{base64, '=' written '-'}</c>, Azurite plain base64. Anything else is unknown (null), and the
/// listing then reads on rather than guess (docs/storage.md).
/// </summary>
internal static class ContinuationKeys
{
    public const string NextRowKeyHeader = "x-ms-continuation-NextRowKey";

    /// <summary>The key <paramref name="header"/> names, or null when it is absent or not in a known form.</summary>
    public static string? DecodeRowKey(string? header)
    {
        if (string.IsNullOrEmpty(header))
        {
            return null;
        }
        var encoded = header;
        var parts = header.Split('!');
        if (parts is [var version, var length, var body] && version.Length > 0 && version.All(char.IsAsciiDigit)
            && int.TryParse(length, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) && count == body.Length)
        {
            encoded = body.Replace('-', '=');
        }
        var bytes = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, bytes, out var written))
        {
            return null;
        }
        try
        {
            var key = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, written);
            return key.Length > 0 && key.All(c => c is > ' ' and < (char)127) ? key : null;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
