using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// Resolves <c>%Name%</c> in trigger attributes from app settings, as the host's name resolver does for queue names
/// and timer schedules: every <c>%Name%</c> is replaced; a setting that is not there fails the trigger at start-up
/// (the host puts such a function in error rather than guess).
/// </summary>
internal static partial class AppSettingExpressions
{
    public static string Resolve(IConfiguration configuration, string expression, string function) =>
        Setting().Replace(expression, match =>
            configuration[match.Groups[1].Value]
            ?? throw new InvalidOperationException($"Function {function}: app setting '{match.Groups[1].Value}' (from '{expression}') is not set."));

    [GeneratedRegex("%([^%]+)%")]
    private static partial Regex Setting();
}
