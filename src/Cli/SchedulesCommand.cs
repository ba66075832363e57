using System.CommandLine;
using Jobs.Client;

namespace Jobs.Cli;

/// <summary><c>jobsctl schedules add|list|show|pause|resume|rm</c>: recurring schedules.</summary>
public static partial class JobsCommand
{
    private static Command BuildSchedules(Func<ParseResult, JobsClient> client, Option<bool> json)
    {
        var schedules = new Command("schedules", "Recurring schedules: a job type and input run at each time of a cron expression.");

        // jobsctl schedules add TYPE --cron "0 2 * * *" [--time-zone Europe/Paris] [--input …] [--overlap …] [--catch-up …]
        var type = new Argument<string>("type") { Description = "The job type each run gets (see `jobsctl types`)." };
        var cron = new Option<string>("--cron") { Description = "Five fields (minute hour day month weekday) or six (second first).", Required = true };
        var zone = new Option<string?>("--time-zone") { Description = "An IANA time zone, e.g. Europe/Paris (default UTC)." };
        var input = new Option<string?>("--input") { Description = "The input of each run: JSON, or @file.json." };
        var overlap = new Option<string?>("--overlap") { Description = "While the previous run is still going: skip (default), queue or allow." };
        var catchUp = new Option<string?>("--catch-up") { Description = "Occurrences missed while the service was down: none, latest (default) or all." };
        var catchUpLimit = new Option<int?>("--catch-up-limit") { Description = "With --catch-up all: the most missed occurrences run (1-100, default 10)." };
        var paused = new Option<bool>("--paused") { Description = "Create it paused." };
        var add = new Command("add", "Create a schedule; prints its id and next time.") { type, cron, zone, input, overlap, catchUp, catchUpLimit, paused };
        add.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var schedule = await client(parse).CreateScheduleAsync(new CreateScheduleRequest
            {
                Type = parse.GetValue(type)!,
                Cron = parse.GetValue(cron)!,
                TimeZone = parse.GetValue(zone),
                Input = await ReadInputAsync(parse.GetValue(input), ct),
                Overlap = ParseChoice<ScheduleOverlap>("--overlap", parse.GetValue(overlap)),
                CatchUp = ParseChoice<ScheduleCatchUp>("--catch-up", parse.GetValue(catchUp)),
                CatchUpLimit = parse.GetValue(catchUpLimit),
                Paused = parse.GetValue(paused) ? true : null,
            }, ct);
            return parse.GetValue(json) ? Json(output, schedule) : Line(output, $"{schedule.Id} {Describe(schedule)}");
        }));

        // jobsctl schedules list [--owner NAME]
        var owner = new Option<string?>("--owner") { Description = "Another owner's schedules (admins)." };
        var list = new Command("list", "List schedules.") { owner };
        list.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var found = new List<Schedule>();
            await foreach (var schedule in client(parse).ListSchedulesAsync(parse.GetValue(owner), ct))
            {
                found.Add(schedule);
            }
            if (parse.GetValue(json))
            {
                return Json(output, found);
            }
            output.WriteLine($"{"ID",-32}  {"TYPE",-18} {"CRON",-16} {"TIME ZONE",-16} NEXT");
            foreach (var schedule in found)
            {
                output.WriteLine($"{schedule.Id,-32}  {schedule.Type,-18} {schedule.Cron,-16} {schedule.TimeZone,-16} {Describe(schedule)}");
            }
            return ExitCodes.Ok;
        }));

        // jobsctl schedules show ID
        var id = new Argument<string>("id") { Description = "The schedule id." };
        var show = new Command("show", "Show a schedule, its next times and latest runs.") { id };
        show.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var schedule = await client(parse).GetScheduleAsync(parse.GetValue(id)!, ct);
            if (parse.GetValue(json))
            {
                return Json(output, schedule);
            }
            output.WriteLine($"{schedule.Id}  {schedule.Type}  \"{schedule.Cron}\" {schedule.TimeZone}  overlap {Wire(schedule.Overlap)}, catch-up {Wire(schedule.CatchUp)}{(schedule.Paused ? "  PAUSED" : "")}");
            output.WriteLine($"owner {schedule.Owner}  skipped {schedule.SkippedCount}");
            foreach (var time in schedule.NextRuns)
            {
                output.WriteLine($"next {time.Local}");
            }
            foreach (var run in schedule.RecentRuns ?? [])
            {
                output.WriteLine($"run  {run.Id}  {run.Status.ToWire(),-10} {run.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}");
            }
            return ExitCodes.Ok;
        }));

        var pause = new Command("pause", "Pause a schedule: no runs until it is resumed.") { id };
        pause.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var schedule = await client(parse).PauseScheduleAsync(parse.GetValue(id)!, ct);
            return parse.GetValue(json) ? Json(output, schedule) : Line(output, $"{schedule.Id} paused");
        }));

        var resume = new Command("resume", "Resume a schedule from its next time after now.") { id };
        resume.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var schedule = await client(parse).ResumeScheduleAsync(parse.GetValue(id)!, ct);
            return parse.GetValue(json) ? Json(output, schedule) : Line(output, $"{schedule.Id} {Describe(schedule)}");
        }));

        var remove = new Command("rm", "Remove a schedule (its runs stay).") { id };
        remove.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            await client(parse).DeleteScheduleAsync(parse.GetValue(id)!, ct);
            return Line(output, $"{parse.GetValue(id)} removed");
        }));

        schedules.Subcommands.Add(add);
        schedules.Subcommands.Add(list);
        schedules.Subcommands.Add(show);
        schedules.Subcommands.Add(pause);
        schedules.Subcommands.Add(resume);
        schedules.Subcommands.Add(remove);
        return schedules;
    }

    private static string Describe(Schedule schedule) =>
        schedule.Paused ? "paused" : schedule.NextRuns.Count > 0 ? "next " + schedule.NextRuns[0].Local : "no next time";

    private static string Wire<T>(T value) where T : struct, Enum => System.Text.Json.JsonSerializer.Serialize(value).Trim('"');

    private static T? ParseChoice<T>(string option, string? text) where T : struct, Enum
    {
        if (text is null)
        {
            return null;
        }
        foreach (var value in Enum.GetValues<T>())
        {
            if (Wire(value) == text)
            {
                return value;
            }
        }
        throw new UsageException($"{option} {text}: one of {string.Join(", ", Enum.GetValues<T>().Select(Wire))}");
    }
}
