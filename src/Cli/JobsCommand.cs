using System.CommandLine;
using System.Text;
using System.Text.Json;
using Jobs.Client;

namespace Jobs.Cli;

/// <summary>Exit codes: what a script can tell from <c>jobsctl</c>'s status.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The job ended, but not <c>completed</c> (failed, cancelled, timed out) — after <c>--wait</c>/<c>watch</c>.</summary>
    public const int JobDidNotComplete = 1;

    /// <summary>The command line was wrong (System.CommandLine's own parse errors are 1 as well, with usage printed).</summary>
    public const int Usage = 2;

    /// <summary>The API refused the request (400, 404, 409, …): the problem is printed.</summary>
    public const int Refused = 3;

    /// <summary>The service could not be reached.</summary>
    public const int Unreachable = 4;
}

/// <summary>The <c>jobs</c> command line (System.CommandLine): one subcommand per thing a person does with jobs.</summary>
public static partial class JobsCommand
{
    private static string Ms(double? ms) => ms switch
    {
        null => "-",
        < 1_000 => $"{ms:0} ms",
        < 60_000 => $"{ms / 1_000:0.0} s",
        _ => $"{ms / 60_000:0.0} min",
    };

    private static readonly JsonSerializerOptions Pretty = new(JobsClientJson.Options) { WriteIndented = true };

    public static RootCommand Build()
    {
        var url = new Option<string>("--url") { Description = "The service (default $JOBS_URL or http://localhost:7071).", Recursive = true };
        var key = new Option<string?>("--key") { Description = "A function key (default $JOBS_KEY).", Recursive = true };
        var user = new Option<string?>("--user")
        {
            Description = "Act as this user (local use: sends the x-ms-client-principal App Service Authentication would; the service must trust it).",
            Recursive = true,
        };
        var admin = new Option<bool>("--admin") { Description = "With --user: the user has the admin role.", Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text.", Recursive = true };
        var root = new RootCommand("Create, list, show, follow, cancel and rerun jobs of a Jobs service, and schedule recurring ones.") { url, key, user, admin, json };

        JobsClient Client(ParseResult parse)
        {
            var http = new HttpClient
            {
                BaseAddress = new Uri(parse.GetValue(url) ?? Environment.GetEnvironmentVariable("JOBS_URL") ?? "http://localhost:7071"),
                Timeout = Timeout.InfiniteTimeSpan,
            };
            if ((parse.GetValue(key) ?? Environment.GetEnvironmentVariable("JOBS_KEY")) is { Length: > 0 } functionKey)
            {
                http.DefaultRequestHeaders.Add("x-functions-key", functionKey);
            }
            if (parse.GetValue(user) is { Length: > 0 } name)
            {
                http.DefaultRequestHeaders.Add(AppServicePrincipal.HeaderName, AppServicePrincipal.Header(name, parse.GetValue(admin) ? ["admin"] : []));
            }
            return new JobsClient(http);
        }

        // jobsctl types
        var types = new Command("types", "The job types, their steps and input.");
        types.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var list = await Client(parse).GetTypesAsync(ct);
            if (parse.GetValue(json))
            {
                return Json(output, list);
            }
            foreach (var type in list)
            {
                output.WriteLine($"{type.Type,-22} {type.Description}");
                output.WriteLine($"{"",-22} steps: {(type.Steps.Count == 0 ? "(depend on the input)" : string.Join(", ", type.Steps))}; timeout {TimeSpan.FromSeconds(type.TimeoutSeconds)}");
                if (type.Paused || type.MaxRunning is not null || type.MaxPerKey is not null)
                {
                    output.WriteLine($"{"",-22} {(type.Paused ? "PAUSED; " : "")}running at most {type.MaxRunning?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "any"} in all, {type.MaxPerKey?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "any"} per concurrency key");
                }
            }
            return ExitCodes.Ok;
        }));

        // jobsctl pause TYPE / jobsctl resume-type TYPE (admins)
        var pauseType = new Argument<string>("type") { Description = "The job type (see `jobsctl types`)." };
        var pause = new Command("pause", "Pause a job type (admins): its new jobs wait queued, none starts; running ones finish.") { pauseType };
        pause.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var slots = await Client(parse).PauseTypeAsync(parse.GetValue(pauseType)!, ct);
            return parse.GetValue(json) ? Json(output, slots) : Line(output, $"{slots.Type} paused ({slots.Running} running, {slots.Queued} queued)");
        }));
        var resumeType = new Command("resume-type", "Resume a paused job type (admins): its queued jobs start as its limits allow.") { pauseType };
        resumeType.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var slots = await Client(parse).ResumeTypeAsync(parse.GetValue(pauseType)!, ct);
            return parse.GetValue(json) ? Json(output, slots) : Line(output, $"{slots.Type} resumed ({slots.Running} running, {slots.Queued} queued)");
        }));

        // jobsctl create TYPE --input @file.json [--wait]
        var typeArgument = new Argument<string>("type") { Description = "The job type (see `jobsctl types`)." };
        var input = new Option<string?>("--input") { Description = "The input: JSON, or @file.json." };
        var correlation = new Option<string?>("--correlation-id") { Description = "Your id for this job." };
        var wait = new Option<bool>("--wait") { Description = "Follow the job until it ends; exit 1 unless it completed." };
        var priority = new Option<int?>("--priority") { Description = "0–9, higher first among its type's queued jobs (default: the type's)." };
        var concurrencyKey = new Option<string?>("--concurrency-key") { Description = "What the type's per-key concurrency limit counts the job against (a tenant, a customer)." };
        var createTags = new Option<string[]>("--tag") { Description = "A tag, name or name:value (repeat or comma-separate; at most 10).", AllowMultipleArgumentsPerToken = true };
        var create = new Command("create", "Create a job.") { typeArgument, input, correlation, priority, concurrencyKey, createTags, wait };
        create.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var client = Client(parse);
            var job = await client.CreateAsync(new CreateJobRequest
            {
                Type = parse.GetValue(typeArgument)!,
                Input = await ReadInputAsync(parse.GetValue(input), ct),
                CorrelationId = parse.GetValue(correlation),
                Priority = parse.GetValue(priority),
                ConcurrencyKey = parse.GetValue(concurrencyKey),
                Tags = SplitTags(parse.GetValue(createTags)) is { Count: > 0 } tags ? tags : null,
            }, ct);
            if (!parse.GetValue(wait))
            {
                return parse.GetValue(json) ? Json(output, job) : Line(output, $"{job.Id} {job.Status.ToWire()}");
            }
            if (!parse.GetValue(json))
            {
                output.WriteLine($"created {job.Id}");
            }
            return await FollowAsync(client, job.Id, output, parse.GetValue(json), logs: false, ct);
        }));

        // jobsctl list [--status …] [--type …] [--correlation-id …]
        var status = new Option<string[]>("--status") { Description = "Only these statuses (repeat or comma-separate).", AllowMultipleArgumentsPerToken = true };
        var typeFilter = new Option<string[]>("--type") { Description = "Only these types.", AllowMultipleArgumentsPerToken = true };
        var correlationFilter = new Option<string>("--correlation-id") { Description = "Only jobs created with this correlation id (exact match)." };
        var limit = new Option<int>("--limit") { Description = "At most this many jobs (default 50).", DefaultValueFactory = _ => 50 };
        var tagFilter = new Option<string[]>("--tag") { Description = "Only jobs with every one of these tags (repeat or comma-separate).", AllowMultipleArgumentsPerToken = true };
        var list = new Command("list", "List jobs, newest first.") { status, typeFilter, correlationFilter, tagFilter, limit };
        list.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var statuses = (parse.GetValue(status) ?? []).SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(ParseState).ToList();
            var query = new JobQuery
            {
                Statuses = statuses,
                Types = [.. (parse.GetValue(typeFilter) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries))],
                CorrelationId = parse.GetValue(correlationFilter),
                Tags = SplitTags(parse.GetValue(tagFilter)),
            };
            var jobs = new List<JobSummary>();
            await foreach (var job in Client(parse).ListAsync(query, ct))
            {
                jobs.Add(job);
                if (jobs.Count >= parse.GetValue(limit))
                {
                    break;
                }
            }
            if (parse.GetValue(json))
            {
                return Json(output, jobs);
            }
            output.WriteLine($"{"ID",-32}  {"TYPE",-18} {"STATUS",-10} {"CREATED",-20} CORRELATION");
            foreach (var job in jobs)
            {
                output.WriteLine($"{job.Id,-32}  {job.Type,-18} {job.Status.ToWire(),-10} {job.CreatedAt.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {job.CorrelationId}");
            }
            return ExitCodes.Ok;
        }));

        // jobsctl metrics [--interval minute|hour] [--since 1h] [--type …]
        var interval = new Option<string>("--interval") { Description = "minute (default) or hour." };
        var since = new Option<TimeSpan?>("--since") { Description = "How far back (e.g. 01:00:00 for an hour; default: 60 slots)." };
        var metricsType = new Option<string[]>("--type") { Description = "Only these types.", AllowMultipleArgumentsPerToken = true };
        var metrics = new Command("metrics", "Jobs created, started and ended, queue wait and duration percentiles per type over time.") { interval, since, metricsType };
        metrics.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var result = await Client(parse).GetMetricsAsync(new MetricsQuery
            {
                Interval = parse.GetValue(interval),
                From = parse.GetValue(since) is { } back ? DateTimeOffset.UtcNow - back : null,
                Types = [.. (parse.GetValue(metricsType) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries))],
            }, ct);
            if (parse.GetValue(json))
            {
                return Json(output, result);
            }
            output.WriteLine($"{result.Scope} jobs, {result.From.UtcDateTime:yyyy-MM-dd HH:mm} to {result.To.UtcDateTime:yyyy-MM-dd HH:mm} UTC, per {result.Interval}");
            output.WriteLine($"{"TYPE",-18} {"CREATED",8} {"STARTED",8} {"DONE",8} {"FAILED",8} {"CANCEL",8} {"TIMEOUT",8} {"WAIT P50",10} {"RUN P50",10} {"RUN P95",10}");
            foreach (var series in result.Series)
            {
                var t = series.Totals;
                output.WriteLine($"{series.Type,-18} {t.Created,8} {t.Started,8} {t.Completed,8} {t.Failed,8} {t.Cancelled,8} {t.TimedOut,8} {Ms(t.QueueWait.P50Ms),10} {Ms(t.Duration.P50Ms),10} {Ms(t.Duration.P95Ms),10}");
            }
            return ExitCodes.Ok;
        }));

        // jobsctl show ID
        var id = new Argument<string>("id") { Description = "The job id." };
        var show = new Command("show", "Show a job.") { id };
        show.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var job = await Client(parse).GetAsync(parse.GetValue(id)!, ct);
            if (parse.GetValue(json))
            {
                return Json(output, job);
            }
            output.WriteLine($"{job.Id}  {job.Type}  {job.Status.ToWire()}  {job.Progress}%{(job.QueuePosition is { } place ? $"  #{place} in line" : "")}");
            output.WriteLine($"step {job.StepIndex + 1}/{job.StepCount} {job.Step}  {job.Message}");
            output.WriteLine($"owner {job.Owner}  created {job.CreatedAt:O}  updated {job.UpdatedAt:O}");
            if (job.CorrelationId is not null) output.WriteLine($"correlation id {job.CorrelationId}");
            if (job.Decision is { } decision)
            {
                output.WriteLine(decision.Answer is null
                    ? $"waiting for decision {decision.Name}: {decision.Question} (by {decision.TimeoutAt:O}, then {decision.OnTimeout}{(decision.Role is null ? "" : $"; role {decision.Role} may answer")}): jobsctl decide {job.Id} {decision.Name} approve|reject"
                    : $"decision {decision.Name}: {decision.Answer.Value.ToString().ToLowerInvariant()} by {(decision.TimedOut ? "timeout" : decision.DecidedBy)}{(decision.Comment is null ? "" : $": {decision.Comment}")}");
            }
            if (job.Tags.Count > 0) output.WriteLine($"tags {string.Join(' ', job.Tags)}");
            if (job.Result is { } result) output.WriteLine($"result {result.GetRawText()}");
            if (job.Error is { } error) output.WriteLine($"error {error.Message}{(error.Step is null ? "" : $" (in {error.Step})")}");
            return ExitCodes.Ok;
        }));

        // jobsctl artifacts ID
        var artifacts = new Command("artifacts", "List a job's artifacts (files its steps wrote; result.json when its result was too large to keep inline).") { id };
        artifacts.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var list = await Client(parse).ListArtifactsAsync(parse.GetValue(id)!, ct);
            if (parse.GetValue(json))
            {
                return Json(output, list);
            }
            foreach (var artifact in list)
            {
                output.WriteLine($"{artifact.Name}  {artifact.Bytes} bytes  {artifact.ContentType}");
            }
            return ExitCodes.Ok;
        }));

        // jobsctl download ID NAME [--output PATH]
        var artifactName = new Argument<string>("name") { Description = "The artifact's name (jobsctl artifacts ID lists them)." };
        var outputPath = new Option<string?>("--output", "-o") { Description = "The file to write (default: NAME in the current directory)." };
        var download = new Command("download", "Download one of a job's artifacts to a file (streamed).") { id, artifactName, outputPath };
        download.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var name = parse.GetValue(artifactName)!;
            var path = parse.GetValue(outputPath) ?? Path.Combine(Environment.CurrentDirectory, Path.GetFileName(name));
            var bytes = await Client(parse).DownloadArtifactToFileAsync(parse.GetValue(id)!, name, path, ct);
            return parse.GetValue(json) ? Json(output, new { name, path, bytes }) : Line(output, $"{path}  {bytes} bytes");
        }));

        // jobsctl logs ID [--follow]
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing lines until the job ends." };
        var logs = new Command("logs", "Print a job's log.") { id, follow };
        logs.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var client = Client(parse);
            var jobId = parse.GetValue(id)!;
            if (parse.GetValue(follow))
            {
                // Printing the log is the point here, not the job's outcome: success once it has all been printed.
                await FollowAsync(client, jobId, output, parse.GetValue(json), logs: true, ct);
                return ExitCodes.Ok;
            }
            string? after = null;
            while (true)
            {
                var page = await client.GetLogsAsync(jobId, after, 1000, ct);
                foreach (var line in page.Lines)
                {
                    PrintLine(output, line, parse.GetValue(json));
                }
                if (!page.HasMore)
                {
                    return ExitCodes.Ok;
                }
                after = page.Next;
            }
        }));

        // jobsctl audit ID
        var audit = new Command("audit", "Print who did what to a job, and when (its audit trail).") { id };
        audit.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var client = Client(parse);
            string? after = null;
            while (true)
            {
                var page = await client.GetAuditAsync(parse.GetValue(id)!, after, 1000, ct);
                foreach (var entry in page.Entries)
                {
                    if (parse.GetValue(json))
                    {
                        output.WriteLine(JsonSerializer.Serialize(entry, JobsClientJson.Options));
                        continue;
                    }
                    var who = entry.Actor.Kind == "system" ? $"system:{entry.Actor.Id}"
                        : entry.Actor.Id + (entry.Actor.Name is { } name && name != entry.Actor.Id ? $" ({name})" : "")
                          + (entry.Actor.IdentityProvider is { } idp ? $" via {idp}" : "")
                          + (entry.Actor.ClientAddress is { } address ? $" from {address}" : "");
                    var details = string.Join(" ", entry.Details.Select(d => $"{d.Key}={d.Value}"));
                    output.WriteLine($"{entry.At:O}  {entry.Action}  {who}{(details.Length > 0 ? "  " + details : "")}");
                }
                if (!page.HasMore)
                {
                    return ExitCodes.Ok;
                }
                after = page.Next;
            }
        }));

        // jobsctl watch ID
        var watch = new Command("watch", "Follow a job live with a progress bar; exit 1 unless it completed.") { id };
        watch.SetAction((parse, ct) => Run(parse, json, output => FollowAsync(Client(parse), parse.GetValue(id)!, output, parse.GetValue(json), logs: false, ct)));

        // jobsctl cancel ID
        var cancel = new Command("cancel", "Cancel a job.") { id };
        cancel.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var job = await Client(parse).CancelAsync(parse.GetValue(id)!, ct);
            return parse.GetValue(json) ? Json(output, job) : Line(output, $"{job.Id} {job.Status.ToWire()}{(job.CancelRequested && !job.Status.IsTerminal() ? " (cancel requested: it stops at its next step boundary)" : "")}");
        }));

        // jobsctl decide ID NAME approve|reject [--comment TEXT] [--payload JSON|@file.json]
        var decisionName = new Argument<string>("name") { Description = "The decision the job waits for (`jobsctl show ID` prints it)." };
        var answer = new Argument<string>("answer") { Description = "approve or reject." };
        answer.AcceptOnlyFromAmong("approve", "reject");
        var comment = new Option<string?>("--comment") { Description = "Why (at most 1,000 characters); in the job's log and audit trail." };
        var payload = new Option<string?>("--payload") { Description = "A JSON object the decided step receives: JSON, or @file.json." };
        var decide = new Command("decide", "Answer the decision a waiting job asks: approve or reject.") { id, decisionName, answer, comment, payload };
        decide.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var job = await Client(parse).DecideAsync(parse.GetValue(id)!, parse.GetValue(decisionName)!, parse.GetValue(answer) == "approve",
                parse.GetValue(comment), await ReadInputAsync(parse.GetValue(payload), ct), ct);
            return parse.GetValue(json) ? Json(output, job) : Line(output, $"{job.Id} {job.Status.ToWire()}: {job.Message}");
        }));

        // jobs rerun ID [--input …] [--from-failed-step] [--wait]
        var rerunInput = new Option<string?>("--input") { Description = "A new input for the rerun: JSON, or @file.json (not with --from-failed-step)." };
        var fromFailed = new Option<bool>("--from-failed-step") { Description = "Resume at the step the job failed at, with the outputs of the steps before it." };
        var rerun = new Command("rerun", "Run an ended job again as a new job linked to it.") { id, rerunInput, fromFailed, wait };
        rerun.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var client = Client(parse);
            var job = await client.RerunAsync(parse.GetValue(id)!, new RerunOptions
            {
                Input = await ReadInputAsync(parse.GetValue(rerunInput), ct),
                FromFailedStep = parse.GetValue(fromFailed),
            }, ct);
            var from = job.ResumedAt is { } resumed ? $" (resumes at step {resumed.Step})" : "";
            if (!parse.GetValue(wait))
            {
                return parse.GetValue(json) ? Json(output, job) : Line(output, $"{job.Id} {job.Status.ToWire()} rerun of {job.RerunOf}{from}");
            }
            if (!parse.GetValue(json))
            {
                output.WriteLine($"created {job.Id}, rerun of {job.RerunOf}{from}");
            }
            return await FollowAsync(client, job.Id, output, parse.GetValue(json), logs: false, ct);
        }));

        // jobs bulk ACTION (ID… | --status … --type … --correlation-id … | --all) [--wait]
        var action = new Argument<string>("action") { Description = "cancel, rerun or delete." };
        var bulkIds = new Argument<string[]>("ids") { Description = "The jobs' ids (1-500); or leave them out and filter.", Arity = ArgumentArity.ZeroOrMore };
        var bulkStatus = new Option<string[]>("--status") { Description = "Only jobs in these statuses.", AllowMultipleArgumentsPerToken = true };
        var bulkType = new Option<string[]>("--type") { Description = "Only jobs of these types.", AllowMultipleArgumentsPerToken = true };
        var bulkCorrelation = new Option<string?>("--correlation-id") { Description = "Only jobs created with this correlation id." };
        var all = new Option<bool>("--all") { Description = "With no ids and no filter: every job in reach." };
        var bulkTags = new Option<string[]>("--tag") { Description = "Only jobs with every one of these tags.", AllowMultipleArgumentsPerToken = true };
        var bulk = new Command("bulk", "Cancel, rerun or delete many jobs; prints what was done and what was skipped.") { action, bulkIds, bulkStatus, bulkType, bulkCorrelation, bulkTags, all, wait };
        bulk.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var client = Client(parse);
            var ids = parse.GetValue(bulkIds) ?? [];
            var statuses = (parse.GetValue(bulkStatus) ?? []).SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(ParseState).ToList();
            var typeNames = (parse.GetValue(bulkType) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
            var request = new BulkRequest
            {
                Action = parse.GetValue(action)!,
                Ids = ids.Length > 0 ? ids : null,
                Filter = ids.Length > 0 ? null : new BulkFilter
                {
                    Status = statuses.Count > 0 ? statuses : null,
                    Type = typeNames.Count > 0 ? typeNames : null,
                    CorrelationId = parse.GetValue(bulkCorrelation),
                    Tag = SplitTags(parse.GetValue(bulkTags)) is { Count: > 0 } bulkTagValues ? bulkTagValues : null,
                },
                All = parse.GetValue(all),
            };
            var job = await client.BulkAsync(request, cancellationToken: ct);
            if (!parse.GetValue(wait))
            {
                return parse.GetValue(json) ? Json(output, job) : Line(output, $"{job.Id} {job.Status.ToWire()}");
            }
            var end = await client.WaitForCompletionAsync(job.Id, ct);
            var result = await client.GetResultAsync(job.Id, ct);
            if (parse.GetValue(json))
            {
                return Json(output, result);
            }
            output.WriteLine(result.Result is { } summary
                ? $"{job.Id} {end.Status.ToWire()}: {summary.GetProperty("matched").GetInt32()} matched; done {summary.GetProperty("done")}; skipped {summary.GetProperty("skipped")}"
                : $"{job.Id} {end.Status.ToWire()}: {end.Message}");
            return end.Status == JobState.Completed ? ExitCodes.Ok : ExitCodes.JobDidNotComplete;
        }));

        // jobsctl webhooks add URL --event job.completed … [--type T …] [--all-jobs] | list | rm ID | deliveries ID [--limit N]
        var hookUrl = new Argument<string>("url") { Description = "Where to POST events (https)." };
        var hookEvents = new Option<string[]>("--event")
        {
            Description = "The events wanted (repeat or comma-separate): job.started, job.completed, job.failed, job.cancelled, job.timed_out, job.progress (throttled).",
            AllowMultipleArgumentsPerToken = true,
            Required = true,
        };
        var hookTypes = new Option<string[]>("--type") { Description = "Only jobs of these types.", AllowMultipleArgumentsPerToken = true };
        var hookAll = new Option<bool>("--all-jobs") { Description = "Every owner's jobs (admins only)." };
        var hookAdd = new Command("add", "Subscribe a URL to job events; prints the signing secret, shown this once.") { hookUrl, hookEvents, hookTypes, hookAll };
        hookAdd.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var typeNames = (parse.GetValue(hookTypes) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
            var hook = await Client(parse).SubscribeAsync(new CreateWebhookRequest(
                parse.GetValue(hookUrl)!,
                [.. (parse.GetValue(hookEvents) ?? []).SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries))],
                typeNames.Count == 0 ? null : typeNames,
                parse.GetValue(hookAll)), ct);
            return parse.GetValue(json) ? Json(output, hook) : Line(output, $"{hook.Id} {hook.Url}\nsecret {hook.Secret} (shown once: keep it to verify deliveries)");
        }));
        var hookList = new Command("list", "The caller's subscriptions.");
        hookList.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var hooks = await Client(parse).ListWebhooksAsync(ct);
            if (parse.GetValue(json))
            {
                return Json(output, hooks);
            }
            foreach (var hook in hooks)
            {
                output.WriteLine($"{hook.Id}  {hook.Url}  {string.Join(",", hook.Events)}{(hook.JobTypes is null ? "" : "  types " + string.Join(",", hook.JobTypes))}{(hook.AllJobs ? "  all jobs" : "")}{(hook.Disabled ? $"  DISABLED: {hook.DisabledReason}" : "")}");
            }
            return ExitCodes.Ok;
        }));
        var hookId = new Argument<string>("id") { Description = "The subscription id." };
        var hookRemove = new Command("rm", "Delete a subscription.") { hookId };
        hookRemove.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            await Client(parse).DeleteWebhookAsync(parse.GetValue(hookId)!, ct);
            return parse.GetValue(json) ? Json(output, new { deleted = parse.GetValue(hookId) }) : Line(output, $"deleted {parse.GetValue(hookId)}");
        }));
        var deliveriesLimit = new Option<int>("--limit") { Description = "At most this many deliveries, newest first (default 20).", DefaultValueFactory = _ => 20 };
        var hookDeliveries = new Command("deliveries", "A subscription's delivery log, newest first.") { hookId, deliveriesLimit };
        hookDeliveries.SetAction((parse, ct) => Run(parse, json, async output =>
        {
            var page = await Client(parse).GetDeliveriesAsync(parse.GetValue(hookId)!, null, Math.Clamp(parse.GetValue(deliveriesLimit), 1, 100), ct);
            if (parse.GetValue(json))
            {
                return Json(output, page.Items);
            }
            output.WriteLine($"{"DELIVERY",-70} {"EVENT",-14} {"STATE",-9} TRIES CODE  MS    NEXT TRY");
            foreach (var d in page.Items)
            {
                output.WriteLine($"{d.Id,-70} {d.Event,-14} {d.State.ToString().ToLowerInvariant(),-9} {d.Attempts,5} {d.ResponseCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",4} {d.LatencyMs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",5} {d.NextTryAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) ?? "-"}{(d.Error is null ? "" : "  " + d.Error)}");
            }
            return ExitCodes.Ok;
        }));
        var webhooks = new Command("webhooks", "Signed webhooks: subscribe a URL to job events, list, remove, read the delivery log.")
        {
            hookAdd, hookList, hookRemove, hookDeliveries,
        };

        root.Subcommands.Add(types);
        root.Subcommands.Add(create);
        root.Subcommands.Add(list);
        root.Subcommands.Add(show);
        root.Subcommands.Add(logs);
        root.Subcommands.Add(artifacts);
        root.Subcommands.Add(download);
        root.Subcommands.Add(audit);
        root.Subcommands.Add(watch);
        root.Subcommands.Add(cancel);
        root.Subcommands.Add(decide);
        root.Subcommands.Add(rerun);
        root.Subcommands.Add(bulk);
        root.Subcommands.Add(webhooks);
        root.Subcommands.Add(BuildSchedules(Client, json));
        root.Subcommands.Add(pause);
        root.Subcommands.Add(resumeType);
        root.Subcommands.Add(metrics);
        return root;
    }

    /// <summary>Follows the job's event stream: a progress bar (or log lines, or JSON events) until the end.</summary>
    private static async Task<int> FollowAsync(JobsClient client, string id, TextWriter output, bool json, bool logs, CancellationToken ct)
    {
        JobStatus? last = null;
        var interactive = !Console.IsOutputRedirected && !json && !logs;
        await foreach (var e in client.WatchAsync(id, cancellationToken: ct))
        {
            if (json)
            {
                output.WriteLine(JsonSerializer.Serialize(new { kind = e.Kind, id = e.Id, status = e.Status, line = e.Line }, JobsClientJson.Options));
            }
            else if (logs && e.Line is { } line)
            {
                PrintLine(output, line, json: false);
            }
            else if (!logs && e.Status is { } status && (last is null || status.Progress != last.Progress || status.Status != last.Status || e.IsEnd))
            {
                var bar = new string('#', status.Progress / 5).PadRight(20, '.');
                var text = $"[{bar}] {status.Progress,3}% {status.Status.ToWire(),-9} {status.Step} {status.Message}";
                if (interactive)
                {
                    output.Write("\r" + text.PadRight(Math.Max(text.Length, 79))[..Math.Max(text.Length, 79)]);
                }
                else
                {
                    output.WriteLine(text);
                }
            }
            last = e.Status ?? last;
            if (e.IsEnd)
            {
                break;
            }
        }
        if (interactive)
        {
            output.WriteLine();
        }
        last ??= await client.GetStatusAsync(id, ct);
        if (!json)
        {
            output.WriteLine($"{id} {last.Status.ToWire()}{(last.Error is { } error ? $": {error.Message}" : "")}");
        }
        return last.Status == JobState.Completed ? ExitCodes.Ok : ExitCodes.JobDidNotComplete;
    }

    private static void PrintLine(TextWriter output, JobLogLine line, bool json) =>
        output.WriteLine(json ? JsonSerializer.Serialize(line, JobsClientJson.Options) : $"{line.Timestamp.UtcDateTime:HH:mm:ss.fff} {line.Level.ToUpperInvariant(),-11} {line.Message}");

    /// <summary>Runs one command, turning the API's and the network's failures into a message and an exit code.</summary>
    private static async Task<int> Run(ParseResult parse, Option<bool> json, Func<TextWriter, Task<int>> action)
    {
        try
        {
            return await action(Console.Out);
        }
        catch (JobsApiException problem)
        {
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new { status = (int)problem.Status, title = problem.Title, detail = problem.Detail, errors = problem.Errors }, JobsClientJson.Options));
            }
            Console.Error.WriteLine($"error: {problem.Message}");
            foreach (var error in problem.Errors)
            {
                Console.Error.WriteLine($"  {error.Field}: {error.Message}");
            }
            return ExitCodes.Refused;
        }
        catch (HttpRequestException unreachable)
        {
            Console.Error.WriteLine($"error: the service cannot be reached ({unreachable.Message})");
            return ExitCodes.Unreachable;
        }
        catch (UsageException usage)
        {
            Console.Error.WriteLine($"error: {usage.Message}");
            return ExitCodes.Usage;
        }
    }

    private static async Task<JsonElement?> ReadInputAsync(string? input, CancellationToken ct)
    {
        if (input is null)
        {
            return null;
        }
        var text = input.StartsWith('@') ? await File.ReadAllTextAsync(input[1..], ct) : input;
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new UsageException($"--input is not JSON: {ex.Message}");
        }
    }

    /// <summary>The values of a repeatable <c>--tag</c> option, each of which may be comma-separated (no tag holds a comma).</summary>
    private static List<string> SplitTags(string[]? values) =>
        [.. (values ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    private static JobState ParseState(string text) =>
        Enum.GetValues<JobState>().FirstOrDefault(s => s.ToWire() == text, (JobState)(-1)) is var state && Enum.IsDefined(state)
            ? state
            : throw new UsageException($"--status {text}: one of {string.Join(", ", Enum.GetValues<JobState>().Select(s => s.ToWire()))}");

    private static int Json<T>(TextWriter output, T value)
    {
        output.WriteLine(JsonSerializer.Serialize(value, Pretty));
        return ExitCodes.Ok;
    }

    private static int Line(TextWriter output, string text)
    {
        output.WriteLine(text);
        return ExitCodes.Ok;
    }

    private sealed class UsageException(string message) : Exception(message);
}
