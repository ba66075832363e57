using Jobs.Functions.Handlers;
using Microsoft.AspNetCore.Http;

namespace Jobs.Functions.Api;

/// <summary>A failure with a status code and a message fit for the client (RFC 9457 problem details).</summary>
public sealed class ApiProblemException(int status, string title, string detail, IReadOnlyList<InputError>? errors = null)
    : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string Detail { get; } = detail;
    public IReadOnlyList<InputError>? Errors { get; } = errors;

    public static ApiProblemException NotFound(string what) =>
        new(StatusCodes.Status404NotFound, "Not found", $"{what} does not exist or is not yours.");

    public static ApiProblemException BadParameter(string name, string message) =>
        new(StatusCodes.Status400BadRequest, "Invalid request", $"{name}: {message}", [new InputError(name, message)]);

    public static ApiProblemException Conflict(string detail) => new(StatusCodes.Status409Conflict, "Conflict", detail);
}

/// <summary>The problem+json body.</summary>
public sealed record ProblemBody(string Type, string Title, int Status, string Detail, string? Instance, IReadOnlyList<InputError>? Errors);

/// <summary>Builds problem responses.</summary>
public static class Problems
{
    public const string ContentType = "application/problem+json; charset=utf-8";

    public static ApiResult Create(HttpRequest request, int status, string title, string detail, IReadOnlyList<InputError>? errors = null) =>
        new(status, new ProblemBody("about:blank", title, status, detail, request.Path.Value, errors), ContentType);

    public static ApiResult From(HttpRequest request, ApiProblemException problem) =>
        Create(request, problem.Status, problem.Title, problem.Detail, problem.Errors);

    /// <summary>A caller's value as a problem may quote it: at most 64 characters, control characters as '?'.</summary>
    public static string Printable(string value) =>
        new([.. value.Take(64).Select(c => char.IsControl(c) ? '?' : c)]);
}
