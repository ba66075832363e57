using Microsoft.Extensions.DependencyInjection;

namespace Jobs.LocalRunner.Configuration;

/// <summary>How to start the runner. The command line fills it; tests set it directly.</summary>
public sealed record RunnerOptions
{
    /// <summary>Folder holding <c>host.json</c> and <c>local.settings.json</c>.</summary>
    public required string ContentRoot { get; init; }

    public string Urls { get; init; } = "http://localhost:7071";

    /// <summary>Settings applied over local.settings.json and the environment (tests use it).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Replaces host.json's hub name, so parallel test runs do not share a task hub.</summary>
    public string? TaskHubOverride { get; init; }

    /// <summary>Read local.settings.json from the content root (off in tests, which pass every setting).</summary>
    public bool LoadLocalSettings { get; init; } = true;

    /// <summary>Runs after the app's own registrations (tests add job types and storage fault policies this way).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    public bool EnableQueueTriggers { get; init; } = true;
    public bool EnableTimerTriggers { get; init; } = true;
}
