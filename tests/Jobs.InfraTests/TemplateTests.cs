using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Jobs.Functions.Observability;
using Jobs.Testing;

namespace Jobs.InfraTests;

/// <summary>
/// infra/main.bicep as `azd up` and `az deployment sub create` take it: it compiles and lints with no diagnostic at all
/// (infra/bicepconfig.json turns on the recent-API-version rule: every resource uses the newest version the pinned
/// CLI's type library knows), its parameter file names what it needs, and the app gets every setting it reads.
/// </summary>
public sealed partial class TemplateTests
{
    private static readonly string Infra = Path.Combine(RepoPaths.Root, "infra");
    private static readonly string Main = Path.Combine(Infra, "main.bicep");

    [Fact]
    public async Task Build_MainTemplate_HasNoWarningOrError()
    {
        var output = Directory.CreateTempSubdirectory("jobs-bicep-").FullName;
        try
        {
            var (exitCode, printed) = await BicepCli.RunAsync("build", Main, "--outdir", output);
            Assert.True(exitCode == 0 && printed.Length == 0, $"bicep build exited {exitCode}:\n{printed}");
            Assert.True(File.Exists(Path.Combine(output, "main.json")));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task Lint_MainTemplate_HasNoDiagnostic()
    {
        var (exitCode, printed) = await BicepCli.RunAsync("lint", Main);
        Assert.True(exitCode == 0 && printed.Length == 0, $"bicep lint exited {exitCode}:\n{printed}");
    }

    [Fact]
    public async Task Lint_ATemplateWithAWarning_IsCaught()
    {
        // The two tests above pass on silence; this shows the CLI speaks when there is something to say.
        var dir = Directory.CreateTempSubdirectory("jobs-bicep-").FullName;
        try
        {
            File.Copy(Path.Combine(Infra, "bicepconfig.json"), Path.Combine(dir, "bicepconfig.json"));
            var file = Path.Combine(dir, "old.bicep");
            await File.WriteAllTextAsync(file, "resource old 'Microsoft.Web/sites@2022-03-01' existing = {\n  name: 'app'\n}\noutput id string = old.id\n");
            var (_, printed) = await BicepCli.RunAsync("lint", file);
            Assert.Contains("use-recent-api-versions", printed, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ParametersFile_GivesEveryRequiredParameterAndNoUnknownOne()
    {
        var output = Directory.CreateTempSubdirectory("jobs-bicep-").FullName;
        try
        {
            var (exitCode, printed) = await BicepCli.RunAsync("build", Main, "--outdir", output);
            Assert.True(exitCode == 0, printed);
            var parameters = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "main.json")))!["parameters"]!.AsObject();
            var required = parameters.Where(p => p.Value!["defaultValue"] is null).Select(p => p.Key).Order().ToArray();
            var given = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Infra, "main.parameters.json")))!["parameters"]!
                .AsObject().Select(p => p.Key).ToArray();
            Assert.Equal(required, given.Order().ToArray());
            Assert.All(given, name => Assert.True(parameters.ContainsKey(name), $"main.parameters.json names '{name}', which main.bicep does not declare."));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>Settings the template leaves unset on purpose: each would weaken sign-in in Azure (IdentityOptions).</summary>
    private static readonly string[] UnsetInAzure =
    [
        "Jobs__Identity__TrustClientPrincipal",
        "Jobs__Identity__DevelopmentIdentity",
        "Jobs__Identity__DevelopmentRoles",
        "Jobs__Webhooks__AllowLoopbackHttp",
        "Jobs__Schedules__AllowSubMinute",
    ];

    [Fact]
    public void AppSettings_SetEveryOptionTheAppBinds_ExceptTheDevelopmentOnes()
    {
        var template = File.ReadAllText(Path.Combine(Infra, "modules", "functionapp.bicep"));
        var set = SettingKey().Matches(template).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var read = OptionSettings().Append(AppSetting(TelemetryRegistration.ConsoleSetting)).ToArray();
        Assert.NotEmpty(read);
        Assert.All(read.Except(UnsetInAzure), key => Assert.True(set.Contains(key), $"infra/modules/functionapp.bicep does not set {key}."));
        Assert.All(UnsetInAzure, key => Assert.False(set.Contains(key), $"{key} must stay unset in Azure."));
        Assert.All(set.Where(key => key.StartsWith("Jobs__", StringComparison.Ordinal)),
            key => Assert.True(read.Contains(key), $"infra/modules/functionapp.bicep sets {key}, which the app does not read."));
    }

    [Fact]
    public void SignIn_LeavesTheHealthEndpointOpen_ForProbes_AndNothingElse()
    {
        var template = File.ReadAllText(Path.Combine(Infra, "modules", "functionapp.bicep"));
        var excluded = template[template.IndexOf("excludedPaths: [", StringComparison.Ordinal)..];
        excluded = excluded[..excluded.IndexOf(']', StringComparison.Ordinal)];
        Assert.Equal(["'/api/health'"], excluded.Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0));
        Assert.Contains("requireAuthentication: true", template, StringComparison.Ordinal);
    }

    [Fact]
    public void AppSettings_OpenStorageWithTheManagedIdentity_NeverWithAKey()
    {
        var template = File.ReadAllText(Path.Combine(Infra, "modules", "functionapp.bicep"));
        Assert.Contains("'${name}__credential': 'managedidentity'", template, StringComparison.Ordinal);
        Assert.Contains("'${name}__clientId': clientId", template, StringComparison.Ordinal);
        Assert.Contains("identityConnection('AzureWebJobsStorage', storageEndpoints, identityClientId)", template, StringComparison.Ordinal);
        var storage = File.ReadAllText(Path.Combine(Infra, "modules", "storage.bicep"));
        Assert.Contains("allowSharedKeyAccess: false", storage, StringComparison.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Infra, "*.bicep", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain("listKeys", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("AccountKey=", text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void AzureYaml_PointsAtTheTemplate_TheFunctionsProject_AndHooksThatExist()
    {
        var yaml = File.ReadAllText(Path.Combine(RepoPaths.Root, "azure.yaml"));
        string Value(string key) => Regex.Match(yaml, $@"^\s*{key}:\s*(\S+)\s*$", RegexOptions.Multiline) is { Success: true } m
            ? m.Groups[1].Value
            : throw new Xunit.Sdk.XunitException($"azure.yaml has no '{key}:'.");
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, Value("path"), Value("module") + ".bicep")));
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, Value("project"), "Functions.csproj")));
        Assert.Equal("function", Value("host"));
        // azd finds the app to deploy the service to by this tag.
        var service = Regex.Match(yaml, @"^services:\s*\n\s+(\w+):", RegexOptions.Multiline).Groups[1].Value;
        Assert.Contains($"'azd-service-name': '{service}'", File.ReadAllText(Main), StringComparison.Ordinal);
        foreach (Match hook in Regex.Matches(yaml, @"^\s*run:\s*(\S+)\s*$", RegexOptions.Multiline))
        {
            var script = Path.Combine(RepoPaths.Root, hook.Groups[1].Value);
            Assert.True(File.Exists(script), $"azure.yaml runs {hook.Groups[1].Value}, which does not exist.");
            Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute), $"{hook.Groups[1].Value} is not executable.");
        }
    }

    /// <summary>Every bound option as an app setting (<c>Jobs__Storage__TablePrefix</c>), from the options classes themselves.</summary>
    private static IEnumerable<string> OptionSettings() =>
        typeof(TelemetryRegistration).Assembly.GetTypes()
            .Select(type => (Type: type, Section: type.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string))
            .Where(t => t.Section?.StartsWith("Jobs:", StringComparison.Ordinal) == true)
            .SelectMany(t => t.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.CanWrite && p.SetMethod!.IsPublic)
                .Select(p => AppSetting(t.Section + ":" + p.Name)));

    private static string AppSetting(string configurationKey) => configurationKey.Replace(":", "__", StringComparison.Ordinal);

    [GeneratedRegex(@"^\s*'?([A-Za-z][A-Za-z0-9_]*__[A-Za-z0-9_]+)'?\s*:", RegexOptions.Multiline)]
    private static partial Regex SettingKey();
}
