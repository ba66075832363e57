using System.Text.Json;
using System.Text.RegularExpressions;

namespace Jobs.Functions.Handlers;

/// <summary>
/// Turns System.Text.Json exceptions into client-facing field names and messages without leaking .NET type names.
/// </summary>
internal static partial class JsonErrors
{
    /// <summary>The field a JSON error points at, as a dotted path below <paramref name="root"/>.</summary>
    public static string FieldOf(JsonException ex, string root)
    {
        // A syntax error is the document's fault, not the field's where the parser happened to stop.
        if (Describe(ex) == NotJson)
        {
            return root;
        }
        var unmapped = UnmappedProperty().Match(ex.Message);
        var path = ex.Path is { Length: > 1 } p ? p.TrimStart('$').TrimStart('.') : "";
        if (unmapped.Success)
        {
            path = path.Length == 0 ? unmapped.Groups[1].Value : path;
        }
        return path.Length == 0 ? root : $"{root}.{path}";
    }

    public static string Describe(JsonException ex)
    {
        if (UnmappedProperty().IsMatch(ex.Message))
        {
            return "is not a known field";
        }
        if (ex.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return "has the wrong JSON type or format";
        }
        if (ex.Message.Contains("missing required properties", StringComparison.Ordinal))
        {
            return "is missing required fields";
        }
        return NotJson;
    }

    private const string NotJson = "is not valid JSON";

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnmappedProperty();
}
