namespace Jobs.Functions.Handlers;

/// <summary>
/// An event a job type's orchestration waits for (<see cref="IJobHandler.Events"/>): the only names
/// <c>POST /api/jobs/{id}/instance/raiseEvent/{name}</c> accepts for a job of that type. A step that waits for a decision
/// (issue 31) declares its event here and gives the event's place back (<c>JobEventInbox.ReleaseAsync</c>) once it has it.
/// </summary>
/// <param name="Name">The event name, as raised and as waited for (compared exactly).</param>
/// <param name="Description">What the event means to the job, for people and the job-types listing.</param>
public sealed record JobEventDeclaration(string Name, string Description);
