using System.ComponentModel.DataAnnotations;

namespace Jobs.Functions.Artifacts;

/// <summary>Caps on a job's artifacts (files and oversized results in Blob storage), bound from <c>Jobs:Artifacts</c>.</summary>
public sealed class ArtifactOptions
{
    public const string Section = "Jobs:Artifacts";

    /// <summary>Largest single artifact, in bytes (256 MiB by default).</summary>
    [Range(1L, 4L * 1024 * 1024 * 1024 * 1024)]
    public long MaxArtifactBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most bytes all of one job's artifacts may hold together (1 GiB by default).</summary>
    [Range(1L, 16L * 1024 * 1024 * 1024 * 1024)]
    public long MaxJobBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Most artifacts one job may have; also the most one listing returns (one blob listing page).</summary>
    [Range(1, 1000)]
    public int MaxPerJob { get; set; } = 100;
}
