namespace Jobs.Functions.Artifacts;

/// <summary>
/// The files a step writes for its job (<see cref="Handlers.JobStepContext.Artifacts"/>). Each is downloadable by
/// whoever may read the job at <see cref="ArtifactInfo.Href"/>; return the <see cref="ArtifactInfo"/> in the step's
/// result to link it. Writing a name again replaces it, so a retried step simply writes again.
/// </summary>
public sealed class StepArtifacts(ArtifactStore store, string jobId, CancellationToken cancellationToken)
{
    /// <summary>
    /// Writes <paramref name="content"/> (read to its end, streamed) as the artifact <paramref name="name"/> (see
    /// <see cref="ArtifactNames"/>; <c>result.json</c> is the engine's).
    /// </summary>
    public Task<ArtifactInfo> WriteAsync(string name, Stream content, string contentType = "application/octet-stream")
    {
        if (name == ArtifactNames.Result)
        {
            throw new ArgumentException($"The artifact name '{ArtifactNames.Result}' is the engine's (an oversized result is written there).", nameof(name));
        }
        return store.WriteAsync(jobId, name, content, contentType, cancellationToken);
    }
}
