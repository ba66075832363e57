namespace Jobs.Functions.Orchestration;

/// <summary>
/// Progress rules: each of n steps owns an equal share of 0–100; a step reports 0–100 within its share;
/// the job's progress is clamped and never goes down.
/// </summary>
public static class JobProgress
{
    public static int Clamp(int percent) => Math.Clamp(percent, 0, 100);

    /// <summary>Overall progress when step <paramref name="stepIndex"/> (0-based) of <paramref name="stepCount"/> starts.</summary>
    public static int AtStepStart(int stepIndex, int stepCount) => Within(stepIndex, stepCount, 0);

    /// <summary>Overall progress for a step-local percentage.</summary>
    public static int Within(int stepIndex, int stepCount, int stepPercent)
    {
        if (stepCount <= 0)
        {
            return 0;
        }
        var index = Math.Clamp(stepIndex, 0, stepCount - 1);
        return Clamp((index * 100 + Clamp(stepPercent)) / stepCount);
    }

    /// <summary>The progress to store: never below what is stored, never outside 0–100.</summary>
    public static int Advance(int current, int proposed) => Math.Max(Clamp(current), Clamp(proposed));
}
