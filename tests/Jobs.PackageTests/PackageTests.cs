using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Jobs.PackageTests;

/// <summary>
/// What a consumer of the packages sees: each .nupkg's nuspec (version from the one source, licence, repository and
/// commit, readme, description), the files it must carry, the symbols package with its SourceLink map, and the tool
/// installed from the package folder alone (no other NuGet source) and run by its name in bash.
/// </summary>
public sealed partial class PackageTests(PackedPackages packages) : IClassFixture<PackedPackages>
{
    private static XElement Nuspec(ZipArchive package)
    {
        var entry = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/', StringComparison.Ordinal));
        using var stream = entry.Open();
        var metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        return metadata;
    }

    private static string? Value(XElement metadata, string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

    private static XElement Element(XElement metadata, string name) => metadata.Elements().Single(e => e.Name.LocalName == name);

    [Theory]
    [InlineData("Jobs.Client")]
    [InlineData("Jobs.Cli")]
    public void Package_CarriesVersionLicenceRepositoryReadmeAndDescription(string id)
    {
        using var package = ZipFile.OpenRead(packages.Package(id));
        var metadata = Nuspec(package);

        Assert.Equal(id, Value(metadata, "id"));
        Assert.Equal(PackedPackages.Version, Value(metadata, "version"));
        var license = Element(metadata, "license");
        Assert.Equal("expression", (string?)license.Attribute("type"));
        Assert.Equal("MIT", license.Value);
        var repository = Element(metadata, "repository");
        Assert.Equal("git", (string?)repository.Attribute("type"));
        Assert.Equal(PackedPackages.RepositoryUrl, (string?)repository.Attribute("url"));
        Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit"));
        Assert.Equal(PackedPackages.RepositoryUrl, Value(metadata, "projectUrl"));
        Assert.Equal("README.md", Value(metadata, "readme"));
        Assert.False(string.IsNullOrWhiteSpace(Value(metadata, "description")));
        Assert.False(string.IsNullOrWhiteSpace(Value(metadata, "authors")));
        Assert.Contains(package.Entries, e => e.FullName == "README.md" && e.Length > 0);
        Assert.Contains(package.Entries, e => e.FullName == "LICENSE" && e.Length > 0);
    }

    [Theory]
    [InlineData("Jobs.Client", "lib/net10.0/Jobs.Client.pdb")]
    [InlineData("Jobs.Cli", "tools/net10.0/any/jobsctl.pdb")]
    public void SymbolsPackage_HasThePdb_WithASourceLinkMapToTheBuiltCommit(string id, string pdbPath)
    {
        using var symbols = ZipFile.OpenRead(packages.Package(id, "snupkg"));
        var pdb = symbols.Entries.Single(e => e.FullName == pdbPath);
        using var stream = pdb.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var text = Encoding.UTF8.GetString(buffer.ToArray());

        // The SourceLink JSON SourceLink writes into the portable PDB: local paths → raw URLs of the commit.
        var map = SourceLinkMap().Match(text);
        Assert.True(map.Success, $"{pdbPath} has no SourceLink map");
        // The commit the binaries were built from (the nuspec's is read at pack time: the same in a release, which builds
        // and packs one checkout; a developer may have committed in between).
        var raw = PackedPackages.RepositoryUrl.Replace("https://github.com/", "https://raw.githubusercontent.com/", StringComparison.Ordinal);
        Assert.Matches($"\"{Regex.Escape(raw)}/[0-9a-f]{{40}}/\\*\"", map.Value);
    }

    [Fact]
    public void ToolPackage_DeclaresTheJobsctlCommand()
    {
        using var package = ZipFile.OpenRead(packages.Package("Jobs.Cli"));
        var types = Element(Nuspec(package), "packageTypes").Elements().Select(e => (string?)e.Attribute("name"));
        Assert.Equal(["DotnetTool"], types);
        var settings = package.Entries.Single(e => e.FullName == "tools/net10.0/any/DotnetToolSettings.xml");
        using var stream = settings.Open();
        var command = XDocument.Load(stream).Descendants("Command").Single();
        Assert.Equal("jobsctl", (string?)command.Attribute("Name"));
        Assert.Equal("jobsctl.dll", (string?)command.Attribute("EntryPoint"));
    }

    [Fact]
    public async Task Tool_InstalledFromThePackageFolder_RunsByItsNameInBash()
    {
        var root = Directory.CreateTempSubdirectory("jobs-tool-").FullName;
        try
        {
            // Only the package folder: no other NuGet source is consulted, so this works offline.
            var config = Path.Combine(root, "nuget.config");
            await File.WriteAllTextAsync(config, """<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /></packageSources></configuration>""");
            var tools = Path.Combine(root, "tools");
            var (installed, installOutput) = await PackedPackages.RunAsync("dotnet", root,
                ["tool", "install", "Jobs.Cli", "--version", PackedPackages.Version, "--tool-path", tools, "--add-source", packages.Directory, "--configfile", config]);
            Assert.True(installed == 0, installOutput);

            // The runtime the shim starts is this one (DOTNET_ROOT), as an installed SDK's would be.
            var dotnetRoot = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
            var (exit, output) = await PackedPackages.RunAsync("bash", root,
                ["-c", "export PATH=\"$TOOLS:$PATH\"; type -t jobsctl && jobsctl --help"],
                new Dictionary<string, string> { ["TOOLS"] = tools, ["DOTNET_ROOT"] = dotnetRoot });

            Assert.True(exit == 0, output);
            Assert.StartsWith("file", output, StringComparison.Ordinal); // bash found a program, not a builtin or alias
            Assert.Contains("Usage:", output, StringComparison.Ordinal);
            Assert.Contains("jobsctl [command] [options]", output, StringComparison.Ordinal);
            Assert.Contains("Create, list, show, follow, cancel and rerun jobs", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [GeneratedRegex("""\{"documents":\{[^}]*\}\}""")]
    private static partial Regex SourceLinkMap();
}
