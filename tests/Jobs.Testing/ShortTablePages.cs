using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Jobs.Testing;

/// <summary>
/// An Azure SDK pipeline policy that makes Azurite answer a table's range queries as Azure does when a filter scans:
/// a few rows and a continuation. While <see cref="Enabled"/>, it rewrites the <c>$top</c> of every query of the table
/// named <see cref="Table"/> to <see cref="RowsPerResponse"/>, so every response holds at most that many matching rows
/// and a continuation whenever more match — a page then needs a request per row or two, and a listing's request budget
/// is reached. (Azurite scans its whole table and returns up to <c>$top</c> matches; Azure stops at 1,000 rows or 5 s of
/// scanning, possibly with none.)
/// </summary>
public sealed partial class ShortTablePages : HttpPipelinePolicy
{
    /// <summary>The table whose queries are cut (its full name, prefix included).</summary>
    public string? Table { get; set; }

    public bool Enabled { get; set; }

    public int RowsPerResponse { get; set; } = 1;

    /// <summary>How many queries were rewritten.</summary>
    public int Rewritten => _rewritten;

    private int _rewritten;

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Rewrite(message);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Rewrite(message);
        return ProcessNextAsync(message, pipeline);
    }

    private void Rewrite(HttpMessage message)
    {
        var uri = message.Request.Uri;
        if (!Enabled || Table is null || message.Request.Method != RequestMethod.Get
            || !Uri.UnescapeDataString(uri.Path).EndsWith("/" + Table + "()", StringComparison.Ordinal))
        {
            return;
        }
        var query = uri.Query;
        var rewritten = Top().IsMatch(query)
            ? Top().Replace(query, "${name}=" + RowsPerResponse)
            : query + (query.Length == 0 ? "?" : "&") + "%24top=" + RowsPerResponse;
        uri.Query = rewritten;
        Interlocked.Increment(ref _rewritten);
    }

    [GeneratedRegex("(?<name>(?:\\$|%24)top)=[0-9]+", RegexOptions.IgnoreCase)]
    private static partial Regex Top();
}
