namespace Jobs.Testing;

/// <summary>Locates the repository (host.json, node_modules, build outputs) from the test binaries.</summary>
public static class RepoPaths
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Jobs.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Jobs.sln not found above " + AppContext.BaseDirectory);
    }
}
