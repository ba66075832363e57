using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jobs.Client;

/// <summary>
/// A typed client of the Jobs HTTP API over an <see cref="HttpClient"/> whose <see cref="HttpClient.BaseAddress"/> is the
/// service (e.g. <c>http://localhost:7071</c>). Register it with <see cref="JobsClientServiceCollectionExtensions.AddJobsClient"/>
/// to get the standard resilience pipeline (retries with back-off on transient failures, timeouts, a circuit breaker).
/// Problem answers become <see cref="JobsApiException"/>s.
/// </summary>
public sealed class JobsClient(HttpClient http)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public HttpClient Http { get; } = http;

    /// <summary>
    /// Creates a job. Sends an idempotency key (the request's, or a new one), so a create retried after a lost answer —
    /// by the resilience pipeline or by you with the same key — is still one job.
    /// </summary>
    public async Task<Job> CreateAsync(CreateJobRequest request, CancellationToken cancellationToken = default)
    {
        var key = request.IdempotencyKey ?? Guid.NewGuid().ToString("N");
        using var message = new HttpRequestMessage(HttpMethod.Post, "api/jobs")
        {
            Content = JsonContent.Create(request with { IdempotencyKey = null }, options: Json),
        };
        message.Headers.Add("Idempotency-Key", key);
        return await SendAsync<Job>(message, cancellationToken);
    }

    public Task<Job> GetAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<Job>($"api/jobs/{Escape(id)}", cancellationToken);

    public Task<JobStatus> GetStatusAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<JobStatus>($"api/jobs/{Escape(id)}/status", cancellationToken);

    /// <summary>The outcome of an ended job; <see cref="JobConflictException"/> while it has not ended.</summary>
    public Task<JobResult> GetResultAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<JobResult>($"api/jobs/{Escape(id)}/result", cancellationToken);

    /// <summary>
    /// The job's artifacts: files its steps wrote, and its result when too large to keep inline
    /// (<see cref="JobArtifact.Result"/>; the result then links to it).
    /// </summary>
    public async Task<IReadOnlyList<JobArtifact>> ListArtifactsAsync(string id, CancellationToken cancellationToken = default) =>
        (await GetAsync<JobArtifactList>($"api/jobs/{Escape(id)}/artifacts", cancellationToken)).Artifacts;

    /// <summary>
    /// Copies the artifact <paramref name="name"/> of the job to <paramref name="destination"/> as it arrives (never
    /// whole in memory); returns the bytes copied.
    /// </summary>
    public async Task<long> DownloadArtifactAsync(string id, string name, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var response = await OpenArtifactAsync(id, name, cancellationToken);
        return await CopyAsync(response, destination, cancellationToken);
    }

    /// <summary>
    /// Downloads the artifact <paramref name="name"/> of the job to the file <paramref name="path"/>, which is created
    /// once the service answered with the artifact and replaced only when the download is whole (it is written to
    /// <c>{path}.partial</c> first); returns the bytes written.
    /// </summary>
    public async Task<long> DownloadArtifactToFileAsync(string id, string name, string path, CancellationToken cancellationToken = default)
    {
        using var response = await OpenArtifactAsync(id, name, cancellationToken);
        var partial = path + ".partial";
        long bytes;
        await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true))
        {
            bytes = await CopyAsync(response, file, cancellationToken);
        }
        File.Move(partial, path, overwrite: true);
        return bytes;
    }

    private async Task<HttpResponseMessage> OpenArtifactAsync(string id, string name, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/jobs/{Escape(id)}/artifacts/{Escape(name)}");
        var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            await ThrowIfProblemAsync(response, cancellationToken);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static async Task<long> CopyAsync(HttpResponseMessage response, Stream destination, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var copied = 0L;
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            copied += read;
        }
        return copied;
    }

    /// <summary>A page of log lines after <paramref name="after"/> (pass the previous page's <see cref="JobLogPage.Next"/> to tail).</summary>
    public Task<JobLogPage> GetLogsAsync(string id, string? after = null, int limit = 100, CancellationToken cancellationToken = default) =>
        GetAsync<JobLogPage>($"api/jobs/{Escape(id)}/logs?limit={limit}" + (after is null ? "" : $"&after={Escape(after)}"), cancellationToken);

    /// <summary>A page of the job's audit trail after <paramref name="after"/>, oldest first (pass the previous page's <see cref="JobAuditPage.Next"/>).</summary>
    public Task<JobAuditPage> GetAuditAsync(string id, string? after = null, int limit = 100, CancellationToken cancellationToken = default) =>
        GetAsync<JobAuditPage>($"api/jobs/{Escape(id)}/audit?limit={limit}" + (after is null ? "" : $"&after={Escape(after)}"), cancellationToken);

    /// <summary>One page of a listing; pass the previous page's <see cref="Pagination.Next"/> as <paramref name="next"/>.</summary>
    public Task<JobPage> ListPageAsync(JobQuery? query = null, string? next = null, CancellationToken cancellationToken = default) =>
        GetAsync<JobPage>(ListUrl(query ?? new JobQuery(), next), cancellationToken);

    /// <summary>Every job matching <paramref name="query"/>, following <c>next</c> page by page as they are enumerated.</summary>
    public async IAsyncEnumerable<JobSummary> ListAsync(JobQuery? query = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? next = null;
        do
        {
            var page = await ListPageAsync(query, next, cancellationToken);
            foreach (var job in page.Jobs)
            {
                yield return job;
            }
            next = page.Pagination.Next;
        }
        while (next is not null);
    }

    /// <summary>Cancels: at once when the job has not started, at its next step boundary when running.</summary>
    public Task<Job> CancelAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync<Job>(new HttpRequestMessage(HttpMethod.Post, $"api/jobs/{Escape(id)}/cancel"), cancellationToken);

    /// <summary>
    /// Reruns an ended job as a new one linked to it (<see cref="Job.RerunOf"/>): from the start, optionally with a new
    /// input, or — <see cref="RerunOptions.FromFailedStep"/> — from the step a failed job failed at.
    /// </summary>
    public Task<Job> RerunAsync(string id, RerunOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RerunOptions();
        var request = new HttpRequestMessage(HttpMethod.Post, $"api/jobs/{Escape(id)}/rerun")
        {
            Content = JsonContent.Create(new { input = options.Input, from = options.FromFailedStep ? "failed-step" : null }, options: Json),
        };
        if (options.IdempotencyKey is { } key)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        return SendAsync<Job>(request, cancellationToken);
    }

    /// <summary>
    /// Answers the decision <paramref name="name"/> a waiting job asks (<see cref="Job.Decision"/>): approve (true) or
    /// reject, with an optional comment and a JSON object the decided step receives. Returns the job, running on. A job
    /// that does not wait for that decision is a 409 (<see cref="JobsApiException"/>).
    /// </summary>
    public Task<Job> DecideAsync(string id, string name, bool approve, string? comment = null, JsonElement? payload = null, CancellationToken cancellationToken = default) =>
        SendAsync<Job>(new HttpRequestMessage(HttpMethod.Post, $"api/jobs/{Escape(id)}/decisions/{Escape(name)}")
        {
            Content = JsonContent.Create(new { decision = approve ? "approve" : "reject", comment, payload }, options: Json),
        }, cancellationToken);

    /// <summary>
    /// Starts a bulk action: the returned <c>jobs.bulk</c> job tracks it, and its result counts what was done and what
    /// was skipped, and why (wait for it with <see cref="WaitForCompletionAsync"/>, read it with <see cref="GetResultAsync"/>).
    /// </summary>
    public Task<Job> BulkAsync(BulkRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, "api/jobs/bulk") { Content = JsonContent.Create(request, options: Json) };
        if (idempotencyKey is not null)
        {
            message.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return SendAsync<Job>(message, cancellationToken);
    }

    /// <summary>Starts a draft (at <paramref name="notBefore"/> if given).</summary>
    public Task<Job> SubmitAsync(string id, DateTimeOffset? notBefore = null, CancellationToken cancellationToken = default) =>
        SendAsync<Job>(new HttpRequestMessage(HttpMethod.Post, $"api/jobs/{Escape(id)}/submit")
        {
            Content = notBefore is null ? null : JsonContent.Create(new { notBefore }, options: Json),
        }, cancellationToken);

    public async Task<IReadOnlyList<JobType>> GetTypesAsync(CancellationToken cancellationToken = default) =>
        (await GetAsync<JobTypeList>("api/job-types", cancellationToken)).JobTypes;

    /// <summary>
    /// Pauses a job type (admins): it still accepts jobs, which wait <see cref="JobState.Queued"/>, and starts none; its
    /// running jobs finish. Idempotent.
    /// </summary>
    public Task<JobTypeSlots> PauseTypeAsync(string type, CancellationToken cancellationToken = default) =>
        SendAsync<JobTypeSlots>(new HttpRequestMessage(HttpMethod.Post, $"api/job-types/{Escape(type)}/pause"), cancellationToken);

    /// <summary>Resumes a paused job type (admins): its queued jobs start as its limits allow, by priority then arrival. Idempotent.</summary>
    public Task<JobTypeSlots> ResumeTypeAsync(string type, CancellationToken cancellationToken = default) =>
        SendAsync<JobTypeSlots>(new HttpRequestMessage(HttpMethod.Post, $"api/job-types/{Escape(type)}/resume"), cancellationToken);

    /// <summary>Counts by status and type of the caller's jobs (admins: all, or <paramref name="owner"/>'s).</summary>
    public Task<JobStats> GetStatsAsync(string? owner = null, CancellationToken cancellationToken = default) =>
        GetAsync<JobStats>("api/jobs/stats" + (owner is null ? "" : $"?owner={Escape(owner)}"), cancellationToken);

    /// <summary>Jobs created, started and ended, queue wait and durations per type over time (<c>GET /api/metrics</c>).</summary>
    public Task<Metrics> GetMetricsAsync(MetricsQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new MetricsQuery();
        var parameters = new List<string>();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                parameters.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }
        Add("interval", query.Interval);
        Add("from", query.From?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Add("to", query.To?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Add("owner", query.Owner);
        foreach (var type in query.Types)
        {
            Add("type", type);
        }
        return GetAsync<Metrics>("api/metrics" + (parameters.Count == 0 ? "" : "?" + string.Join("&", parameters)), cancellationToken);
    }

    /// <summary>
    /// Subscribes a URL to job events (<see cref="WebhookEventNames"/>). The answer carries the signing secret, this once:
    /// verify each request with <see cref="WebhookSignature.Verify"/> and that secret.
    /// </summary>
    public Task<Webhook> SubscribeAsync(CreateWebhookRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Webhook>(new HttpRequestMessage(HttpMethod.Post, "api/webhooks") { Content = JsonContent.Create(request, options: Json) }, cancellationToken);

    /// <summary>The caller's subscriptions (no secrets).</summary>
    public async Task<IReadOnlyList<Webhook>> ListWebhooksAsync(CancellationToken cancellationToken = default) =>
        (await GetAsync<WebhookList>("api/webhooks", cancellationToken)).Items;

    public Task<Webhook> GetWebhookAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<Webhook>($"api/webhooks/{Escape(id)}", cancellationToken);

    public async Task DeleteWebhookAsync(string id, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"api/webhooks/{Escape(id)}");
        using var response = await Http.SendAsync(request, cancellationToken);
        await ThrowIfProblemAsync(response, cancellationToken);
    }

    /// <summary>A page of a subscription's delivery log, newest first.</summary>
    public Task<WebhookDeliveryPage> GetDeliveriesAsync(string id, string? after = null, int limit = 20, CancellationToken cancellationToken = default) =>
        GetAsync<WebhookDeliveryPage>($"api/webhooks/{Escape(id)}/deliveries?limit={limit}" + (after is null ? "" : $"&after={Escape(after)}"), cancellationToken);

    /// <summary>Tries a delivery again now (the same event, the same webhook-id).</summary>
    public Task<WebhookDelivery> RetryDeliveryAsync(string id, string deliveryId, CancellationToken cancellationToken = default) =>
        SendAsync<WebhookDelivery>(new HttpRequestMessage(HttpMethod.Post, $"api/webhooks/{Escape(id)}/deliveries/{Escape(deliveryId)}/retry"), cancellationToken);

    /// <summary>
    /// The job's events as they happen (<c>GET /api/jobs/{id}/events</c>): status changes, log lines, and the end, after
    /// which the sequence completes. A dropped connection, or the server's periodic close, is resumed after the last
    /// event received, so nothing is missed or repeated.
    /// </summary>
    public async IAsyncEnumerable<JobEvent> WatchAsync(string id, string? lastEventId = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var failures = 0;
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"api/jobs/{Escape(id)}/events");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            if (lastEventId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastEventId);
            }
            HttpResponseMessage response;
            try
            {
                response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException) when (++failures <= 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(failures), cancellationToken);
                continue;
            }
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    yield break; // resumed after the end: nothing more will come
                }
                await ThrowIfProblemAsync(response, cancellationToken);
                var events = ReadEventsAsync(response, cancellationToken).GetAsyncEnumerator(cancellationToken);
                while (true)
                {
                    JobEvent? next;
                    try
                    {
                        next = await events.MoveNextAsync() ? events.Current : null;
                    }
                    catch (Exception ex) when (ex is IOException or HttpRequestException && failures++ < 5)
                    {
                        next = null; // dropped: resume below
                    }
                    if (next is null)
                    {
                        break;
                    }
                    failures = 0;
                    lastEventId = next.Id ?? lastEventId;
                    yield return next;
                    if (next.IsEnd)
                    {
                        yield break;
                    }
                }
                await events.DisposeAsync();
            }
        }
    }

    /// <summary>Waits until the job has ended (watching its events) and returns its final status.</summary>
    public async Task<JobStatus> WaitForCompletionAsync(string id, CancellationToken cancellationToken = default)
    {
        await foreach (var e in WatchAsync(id, cancellationToken: cancellationToken))
        {
            if (e.IsEnd)
            {
                return e.Status!;
            }
        }
        return await GetStatusAsync(id, cancellationToken); // the stream had already ended (a resume after the end)
    }

    private static async IAsyncEnumerable<JobEvent> ReadEventsAsync(HttpResponseMessage response, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        string? id = null;
        string kind = "message";
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    var text = data.ToString();
                    yield return kind == "log"
                        ? new JobEvent(kind, id, null, JsonSerializer.Deserialize<JobLogLine>(text, Json))
                        : new JobEvent(kind, id, JsonSerializer.Deserialize<JobStatus>(text, Json), null);
                }
                kind = "message";
                data.Clear();
                continue;
            }
            if (line.StartsWith(':'))
            {
                continue; // a heartbeat
            }
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": kind = value; break;
                case "data": data.Append(data.Length > 0 ? "\n" : "").Append(value); break;
            }
        }
    }

    /// <summary>Creates a recurring schedule; each occurrence runs as a job with <see cref="Job.ScheduleId"/>.</summary>
    public Task<Schedule> CreateScheduleAsync(CreateScheduleRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Schedule>(new HttpRequestMessage(HttpMethod.Post, "api/schedules") { Content = JsonContent.Create(request, options: Json) }, cancellationToken);

    /// <summary>The schedule with its next five times and latest runs.</summary>
    public Task<Schedule> GetScheduleAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<Schedule>($"api/schedules/{Escape(id)}", cancellationToken);

    /// <summary>One page of your schedules (an admin's: everyone's, or <paramref name="owner"/>'s).</summary>
    public Task<SchedulePage> ListSchedulesPageAsync(string? owner = null, string? next = null, int? pageSize = null, CancellationToken cancellationToken = default)
    {
        var parameters = new List<string>();
        if (owner is not null)
        {
            parameters.Add("owner=" + Escape(owner));
        }
        if (pageSize is { } size)
        {
            parameters.Add("limit=" + size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (next is not null)
        {
            parameters.Add("next=" + Escape(next));
        }
        return GetAsync<SchedulePage>("api/schedules" + (parameters.Count == 0 ? "" : "?" + string.Join('&', parameters)), cancellationToken);
    }

    /// <summary>Every schedule <see cref="ListSchedulesPageAsync"/> reaches, page by page.</summary>
    public async IAsyncEnumerable<Schedule> ListSchedulesAsync(string? owner = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? next = null;
        do
        {
            var page = await ListSchedulesPageAsync(owner, next, cancellationToken: cancellationToken);
            foreach (var schedule in page.Schedules)
            {
                yield return schedule;
            }
            next = page.Next;
        }
        while (next is not null);
    }

    /// <summary>Changes a schedule (only what <paramref name="patch"/> sets).</summary>
    public Task<Schedule> UpdateScheduleAsync(string id, SchedulePatch patch, CancellationToken cancellationToken = default) =>
        SendAsync<Schedule>(new HttpRequestMessage(HttpMethod.Patch, $"api/schedules/{Escape(id)}") { Content = JsonContent.Create(patch, options: Json) }, cancellationToken);

    /// <summary>Pauses a schedule: no runs until it is resumed.</summary>
    public Task<Schedule> PauseScheduleAsync(string id, CancellationToken cancellationToken = default) =>
        UpdateScheduleAsync(id, new SchedulePatch { Paused = true }, cancellationToken);

    /// <summary>Resumes a schedule from its next occurrence after now (the pause's are not caught up).</summary>
    public Task<Schedule> ResumeScheduleAsync(string id, CancellationToken cancellationToken = default) =>
        UpdateScheduleAsync(id, new SchedulePatch { Paused = false }, cancellationToken);

    /// <summary>Removes a schedule; its runs stay, as ordinary jobs.</summary>
    public async Task DeleteScheduleAsync(string id, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"api/schedules/{Escape(id)}");
        using var response = await Http.SendAsync(request, cancellationToken);
        await ThrowIfProblemAsync(response, cancellationToken);
    }

    private static string ListUrl(JobQuery query, string? next)
    {
        var parameters = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parameters.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }
        Add("status", string.Join(',', query.Statuses.Select(s => s.ToWire())));
        Add("type", string.Join(',', query.Types));
        Add("owner", query.Owner);
        Add("entityType", query.Entity?.Type);
        Add("entityId", query.Entity?.Id);
        Add("correlationId", query.CorrelationId);
        Add("scheduleId", query.ScheduleId);
        foreach (var tag in query.Tags)
        {
            Add("tag", tag);
        }
        Add("createdFrom", query.CreatedFrom?.ToString("O"));
        Add("createdTo", query.CreatedTo?.ToString("O"));
        Add("orderBy", query.OrderBy);
        Add("order", query.Ascending is null ? null : query.Ascending.Value ? "asc" : "desc");
        Add("limit", query.PageSize?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("next", next);
        return "api/jobs" + (parameters.Count == 0 ? "" : "?" + string.Join('&', parameters));
    }

    private async Task<T> GetAsync<T>(string url, CancellationToken cancellationToken) =>
        await SendAsync<T>(new HttpRequestMessage(HttpMethod.Get, url), cancellationToken);

    private async Task<T> SendAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            using var response = await Http.SendAsync(request, cancellationToken);
            await ThrowIfProblemAsync(response, cancellationToken);
            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
                ?? throw new JobsApiException(response.StatusCode, "Empty response", $"{request.Method} {request.RequestUri} answered without a body.", []);
        }
    }

    private static async Task ThrowIfProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        Problem? problem = null;
        try
        {
            problem = await response.Content.ReadFromJsonAsync<Problem>(Json, cancellationToken);
        }
        catch (JsonException)
        {
        }
        catch (NotSupportedException)
        {
        }
        var title = problem?.Title ?? response.ReasonPhrase ?? response.StatusCode.ToString();
        var errors = problem?.Errors ?? [];
        throw response.StatusCode switch
        {
            HttpStatusCode.BadRequest => new JobValidationException(response.StatusCode, title, problem?.Detail, errors),
            HttpStatusCode.NotFound => new JobNotFoundException(response.StatusCode, title, problem?.Detail, errors),
            HttpStatusCode.Conflict => new JobConflictException(response.StatusCode, title, problem?.Detail, errors),
            _ => new JobsApiException(response.StatusCode, title, problem?.Detail, errors),
        };
    }

    private static string Escape(string value) => Uri.EscapeDataString(value);

    private sealed record Problem(string? Title, string? Detail, IReadOnlyList<FieldError>? Errors);

    private sealed record JobTypeList(IReadOnlyList<JobType> JobTypes);
}

/// <summary>The JSON settings the client reads and writes the API with (camelCase, nulls left out).</summary>
public static class JobsClientJson
{
    public static JsonSerializerOptions Options => JobsClient.Json;
}
