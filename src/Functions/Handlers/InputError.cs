namespace Jobs.Functions.Handlers;

/// <summary>A problem with one field of a job's input; <see cref="Field"/> is a JSON path such as <c>input.steps</c>.</summary>
public sealed record InputError(string Field, string Message);

/// <summary>Thrown when a job's input (or any request value) does not pass validation.</summary>
public sealed class InputValidationException(IReadOnlyList<InputError> errors)
    : Exception(string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")))
{
    public IReadOnlyList<InputError> Errors { get; } = errors;

    public InputValidationException(string field, string message) : this([new InputError(field, message)])
    {
    }
}
