using System.Globalization;
using System.Text.Json.Nodes;

namespace Jobs.LocalRunner.Durable;

/// <summary>
/// How the runner's durable worker stops, from <c>extensions.durableTask.gracefulShutdownTimeout</c> in host.json
/// (a TimeSpan, default 30 seconds), which an app setting <c>AzureFunctionsJobHost__extensions__durableTask__gracefulShutdownTimeout</c>
/// overrides, as the Functions host lets app settings override host.json. The setting is the runner's own: the Durable
/// extension binds its options from that section and ignores names it does not know, so it is harmless in Azure.
/// </summary>
public sealed record DurableShutdownSettings
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long running activities may take to finish after a stop begins; what is left then is released.</summary>
    public TimeSpan GracefulShutdownTimeout { get; init; } = DefaultTimeout;

    public const string OverrideKey = "AzureFunctionsJobHost:extensions:durableTask:gracefulShutdownTimeout";

    public static DurableShutdownSettings Load(string hostJsonPath, Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        var raw = configuration[OverrideKey]
            ?? (File.Exists(hostJsonPath)
                ? (string?)JsonNode.Parse(File.ReadAllText(hostJsonPath))?["extensions"]?["durableTask"]?["gracefulShutdownTimeout"]
                : null);
        if (raw is null)
        {
            return new DurableShutdownSettings();
        }
        var timeout = TimeSpan.Parse(raw, CultureInfo.InvariantCulture);
        return timeout < TimeSpan.Zero
            ? throw new InvalidDataException($"{hostJsonPath}: extensions.durableTask.gracefulShutdownTimeout must not be negative.")
            : new DurableShutdownSettings { GracefulShutdownTimeout = timeout };
    }
}
