using Jobs.Functions.Model;

namespace Jobs.Functions.Lifecycle;

/// <summary>
/// The step timeline kept on the record (<see cref="Job.Steps"/>): pure, and applied by <see cref="JobTransitions"/> on
/// the changes a step makes anyway — a step's start closes the step before it (when the orchestration says it returned)
/// and opens or re-opens its own; a parallel step's progress sets its items; the ending closes the step still running.
/// </summary>
public static class JobStepRuns
{
    /// <summary>Step <paramref name="index"/> starts (again, for a retry: its first start stays, its attempts grow).</summary>
    public static IReadOnlyList<JobStepRun> Start(
        IReadOnlyList<JobStepRun> steps, int index, string name, int attempt, (int Index, DateTimeOffset At)? previousDone, DateTimeOffset now)
    {
        var list = steps.ToList();
        if (previousDone is { } done)
        {
            Close(list, done.Index, JobStepRun.Completed, done.At);
        }
        var at = list.FindIndex(s => s.Index == index);
        if (at < 0)
        {
            list.Add(new JobStepRun(name, index, JobStepRun.Running, now, null, attempt));
        }
        else
        {
            list[at] = list[at] with { Status = JobStepRun.Running, EndedAt = null, Attempts = Math.Max(list[at].Attempts, attempt) };
        }
        return Same(steps, list);
    }

    /// <summary>A parallel step's items as the orchestration last counted them.</summary>
    public static IReadOnlyList<JobStepRun> Items(IReadOnlyList<JobStepRun> steps, int index, JobStepItems items)
    {
        var list = steps.ToList();
        var at = list.FindIndex(s => s.Index == index);
        if (at >= 0)
        {
            list[at] = list[at] with { Items = items };
        }
        return Same(steps, list);
    }

    /// <summary>The job ended: the step still running ends with it, as the job did.</summary>
    public static IReadOnlyList<JobStepRun> End(IReadOnlyList<JobStepRun> steps, JobStatus status, DateTimeOffset now)
    {
        var list = steps.ToList();
        foreach (var step in list.Where(s => s.Status == JobStepRun.Running).ToList())
        {
            Close(list, step.Index, status.ToWire(), now);
        }
        return Same(steps, list);
    }

    /// <summary>The list as it was when nothing in it changed, so an unchanged record stays equal (and is not written).</summary>
    private static IReadOnlyList<JobStepRun> Same(IReadOnlyList<JobStepRun> before, List<JobStepRun> after) =>
        before.SequenceEqual(after) ? before : after;

    private static void Close(List<JobStepRun> list, int index, string status, DateTimeOffset at)
    {
        var found = list.FindIndex(s => s.Index == index);
        if (found >= 0 && list[found].Status == JobStepRun.Running)
        {
            list[found] = list[found] with { Status = status, EndedAt = at < list[found].StartedAt ? list[found].StartedAt : at };
        }
    }

    /// <summary>One letter per item state (see <see cref="JobStepItems"/>).</summary>
    public static JobStepItems Count(int total, int done, int failed, string? states) =>
        new(total, done, failed, states is not null && states.Length == total && total <= JobStepItems.MaxStates ? states : null);
}
