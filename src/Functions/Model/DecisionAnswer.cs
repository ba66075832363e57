namespace Jobs.Functions.Model;

/// <summary>
/// How a decision a job waits for was answered (<see cref="JobDecision.Answer"/>): by a person (<see cref="Approve"/>,
/// <see cref="Reject"/>), by its timeout as the handler said (the same two, with <see cref="JobDecision.TimedOut"/>), or not
/// at all (<see cref="Expired"/>: the timeout came first and the handler said to fail or cancel the job).
/// </summary>
public enum DecisionAnswer
{
    Approve,
    Reject,
    Expired,
}
