using System.Net;

namespace Jobs.Client;

/// <summary>One field the API refused, as its problem+json names it (<c>input.steps</c>, <c>notBefore</c>, …).</summary>
public sealed record FieldError(string Field, string Message);

/// <summary>A problem+json answer of the API (RFC 9457): its status, title, detail and, for bad input, the fields.</summary>
public class JobsApiException(HttpStatusCode status, string title, string? detail, IReadOnlyList<FieldError> errors)
    : Exception(detail is null ? title : $"{title}: {detail}")
{
    public HttpStatusCode Status { get; } = status;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public IReadOnlyList<FieldError> Errors { get; } = errors;
}

/// <summary>400: bad input; <see cref="JobsApiException.Errors"/> names each field.</summary>
public sealed class JobValidationException(HttpStatusCode status, string title, string? detail, IReadOnlyList<FieldError> errors)
    : JobsApiException(status, title, detail, errors);

/// <summary>404: no such job, or not one the caller may see.</summary>
public sealed class JobNotFoundException(HttpStatusCode status, string title, string? detail, IReadOnlyList<FieldError> errors)
    : JobsApiException(status, title, detail, errors);

/// <summary>409: the job's state does not allow it (cancel an ended job, result of a running one, …).</summary>
public sealed class JobConflictException(HttpStatusCode status, string title, string? detail, IReadOnlyList<FieldError> errors)
    : JobsApiException(status, title, detail, errors);
