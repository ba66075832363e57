using System.Text.Json.Nodes;

namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// Reads <c>local.settings.json</c> the way Core Tools does: <c>Values</c> become app settings (with <c>__</c>
/// meaning a configuration section), <c>ConnectionStrings</c> become connection strings.
/// </summary>
public static class LocalSettings
{
    public static IReadOnlyDictionary<string, string?> Load(string path)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path))
        {
            return settings;
        }
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
            ?? throw new InvalidDataException($"{path} is not a JSON object.");
        foreach (var (key, value) in root["Values"] as JsonObject ?? [])
        {
            settings[key.Replace("__", ":", StringComparison.Ordinal)] = value?.ToString();
        }
        foreach (var (key, value) in root["ConnectionStrings"] as JsonObject ?? [])
        {
            settings["ConnectionStrings:" + key] = value?.ToString();
        }
        return settings;
    }
}
