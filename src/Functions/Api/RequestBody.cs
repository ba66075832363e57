using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Microsoft.AspNetCore.Http;

namespace Jobs.Functions.Api;

/// <summary>Reads a bounded JSON body; every way it can be wrong becomes a problem naming what was wrong.</summary>
public static class RequestBody
{
    /// <summary>Largest accepted request body. Job input is capped lower (it must fit one Table column).</summary>
    public const int MaxBytes = 64 * 1024;

    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class =>
        await ReadOptionalAsync<T>(request, cancellationToken) ?? throw ApiProblemException.BadParameter("body", "a JSON object is required");

    /// <summary>As <see cref="ReadAsync{T}"/>, but an empty body is null (for requests whose body is optional).</summary>
    public static async Task<T?> ReadOptionalAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength > MaxBytes)
        {
            throw TooLarge();
        }
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (mediaType is not null && !string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"The body must be application/json, not {mediaType}.");
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBytes)
            {
                throw TooLarge();
            }
        }
        if (buffer.Length == 0)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), JobJson.Strict)
                ?? throw ApiProblemException.BadParameter("body", "a JSON object is required");
        }
        catch (JsonException ex)
        {
            var field = JsonErrors.FieldOf(ex, "body");
            throw ApiProblemException.BadParameter(field == "body" ? "body" : field["body.".Length..], JsonErrors.Describe(ex));
        }
    }

    private static ApiProblemException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, "Request too large", $"The body must be at most {MaxBytes} bytes.");
}
