using System.Reflection;
using Jobs.LocalRunner.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.LocalRunner;

/// <summary>What the runner prints once it serves: where the API, the dashboard, the OpenAPI document and the health check are.</summary>
public static class ServingBanner
{
    public static string For(ICollection<string> urls, IServiceProvider services)
    {
        var prefix = services.GetRequiredService<HostSettings>().RoutePrefix;
        var root = Browsable(urls.FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? urls.First())
            + (string.IsNullOrEmpty(prefix) ? "" : "/" + prefix);
        return string.Join(Environment.NewLine,
            "Jobs is serving (Ctrl-C stops it):",
            $"  API        {root}/jobs",
            $"  Dashboard  {root}/dashboard",
            $"  OpenAPI    {root}/openapi.json",
            $"  Health     {root}/health");
    }

    /// <summary>The configuration section an options type binds (its <c>Section</c> constant), for an error message.</summary>
    public static string SectionOf(Type optionsType) =>
        optionsType.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is string section
            ? $"{section}, set as {section.Replace(":", "__", StringComparison.Ordinal)}__*"
            : optionsType.Name;

    /// <summary>A listening address as a browser can open it: a wildcard host becomes localhost.</summary>
    private static string Browsable(string url)
    {
        var uri = new Uri(url.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "localhost" : uri.Host;
        return $"{uri.Scheme}://{(host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host)}:{uri.Port}";
    }
}
