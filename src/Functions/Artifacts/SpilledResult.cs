namespace Jobs.Functions.Artifacts;

/// <summary>
/// What a job's result holds when its JSON was too long to keep inline: the artifact it was written to
/// (<see cref="ArtifactNames.Result"/>). The job's metadata names it too (<see cref="MetadataKey"/>), so a client can tell
/// a spilled result from a handler's own.
/// </summary>
public sealed record SpilledResult(ArtifactInfo Artifact)
{
    public const string MetadataKey = "resultArtifact";
}
