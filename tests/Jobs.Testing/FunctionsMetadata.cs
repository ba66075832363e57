using System.Text.Json.Nodes;

namespace Jobs.Testing;

/// <summary>The build's <c>functions.metadata</c> (what the Functions host indexes), read once.</summary>
public static class FunctionsMetadata
{
    public static readonly Lazy<JsonArray> All = new(() =>
    {
        // The Functions project is built with the same configuration as this test assembly.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var path = Path.Combine(RepoPaths.Root, "src", "Functions", "bin", configuration, "net10.0", "functions.metadata");
        return JsonNode.Parse(File.ReadAllText(path))!.AsArray();
    });

    /// <summary>Every HTTP trigger: function name, route (below /api), methods.</summary>
    public static IEnumerable<(string Name, string Route, string[] Methods)> HttpRoutes() =>
        All.Value.Select(f => f!.AsObject())
            .Select(f => (Function: f, Trigger: f["bindings"]!.AsArray().Select(b => b!.AsObject()).Single(b => ((string)b["type"]!).EndsWith("Trigger", StringComparison.Ordinal))))
            .Where(f => (string?)f.Trigger["type"] == "httpTrigger")
            .Select(f => ((string)f.Function["name"]!, (string)f.Trigger["route"]!, f.Trigger["methods"]!.AsArray().Select(m => (string)m!).ToArray()));
}
