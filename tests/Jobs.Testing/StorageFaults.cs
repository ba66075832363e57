using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Jobs.Testing;

/// <summary>When an injected fault strikes: before the request reaches storage, or after storage applied it.</summary>
public enum FaultTiming
{
    /// <summary>The request never arrives (a refused connection).</summary>
    BeforeApplied,

    /// <summary>Storage applies the request, then the answer is lost (a reset connection): a retry finds it done.</summary>
    AfterApplied,
}

/// <summary>
/// An Azure SDK pipeline policy for the app's own storage clients that fails chosen requests on purpose. A failure
/// looks like a broken connection (a <see cref="RequestFailedException"/> with status 0, which the SDK treats as
/// transient), either before the request is sent or after storage has applied it.
/// </summary>
public sealed class StorageFaults : HttpPipelinePolicy
{
    private readonly object _gate = new();
    private readonly List<Rule> _rules = [];
    private readonly List<(Func<StorageRequest, bool> Match, System.Collections.Concurrent.ConcurrentQueue<string> Seen)> _watches = [];
    private Random? _random;
    private Func<StorageRequest, bool>? _randomMatch;
    private double _randomRate;

    /// <summary>How many faults were injected so far.</summary>
    public int Injected { get; private set; }

    /// <summary>
    /// Awaited where a fault strikes, before it is thrown (after the request was applied, for
    /// <see cref="FaultTiming.AfterApplied"/>): a test can make something happen at exactly that point, e.g. a host restart.
    /// </summary>
    public Func<StorageRequest, Task>? OnStrike { get; set; }

    /// <summary>
    /// Fails the <paramref name="nth"/> request (1-based) that <paramref name="match"/> accepts, and the
    /// <paramref name="times"/> − 1 matching requests after it.
    /// </summary>
    public void FailNth(Func<StorageRequest, bool> match, int nth, FaultTiming timing, int times = 1)
    {
        lock (_gate)
        {
            _rules.Add(new Rule(match, nth, timing, times));
        }
    }

    /// <summary>Fails each request that <paramref name="match"/> accepts with probability <paramref name="rate"/>, half before and half after applying it.</summary>
    public void FailRandomly(Func<StorageRequest, bool> match, double rate, int seed)
    {
        lock (_gate)
        {
            _random = new Random(seed);
            _randomMatch = match;
            _randomRate = rate;
        }
    }

    /// <summary>Counts every request <paramref name="match"/> accepts from now on (until <see cref="Clear"/>), as "METHOD path".</summary>
    public IReadOnlyCollection<string> Watch(Func<StorageRequest, bool> match)
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        lock (_gate)
        {
            _watches.Add((match, seen));
        }
        return seen;
    }

    public void Clear()
    {
        lock (_gate)
        {
            _rules.Clear();
            _watches.Clear();
            _randomMatch = null;
            OnStrike = null;
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The app's storage calls are asynchronous.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var request = new StorageRequest(message);
        var timing = Decide(request);
        if (timing == FaultTiming.BeforeApplied)
        {
            await StrikeAsync(request);
            throw Fault(message, "before it was applied");
        }
        await ProcessNextAsync(message, pipeline);
        if (timing == FaultTiming.AfterApplied && message.HasResponse && message.Response.Status < 400)
        {
            await StrikeAsync(request);
            throw Fault(message, "after it was applied");
        }
    }

    private Task StrikeAsync(StorageRequest request) => OnStrike is { } strike ? strike(request) : Task.CompletedTask;

    private FaultTiming? Decide(StorageRequest request)
    {
        lock (_gate)
        {
            foreach (var (_, seen) in _watches.Where(w => w.Match(request)))
            {
                seen.Enqueue($"{request.Method} {request.Path}");
            }
            foreach (var rule in _rules)
            {
                if (rule.Times > 0 && rule.Match(request) && --rule.Remaining <= 0)
                {
                    rule.Times--;
                    Injected++;
                    return rule.Timing;
                }
            }
            if (_randomMatch is { } match && match(request) && _random!.NextDouble() < _randomRate)
            {
                Injected++;
                return _random.Next(2) == 0 ? FaultTiming.BeforeApplied : FaultTiming.AfterApplied;
            }
            return null;
        }
    }

    private static RequestFailedException Fault(HttpMessage message, string when) =>
        new(0, $"Injected storage fault on {message.Request.Method} {message.Request.Uri.Path} {when}.",
            new IOException("The connection was reset (injected)."));

    private sealed class Rule(Func<StorageRequest, bool> match, int nth, FaultTiming timing, int times)
    {
        public Func<StorageRequest, bool> Match { get; } = match;
        public FaultTiming Timing { get; } = timing;
        public int Remaining { get; set; } = nth;
        public int Times { get; set; } = times;
    }
}

/// <summary>What a fault rule sees of a request: method, path and (for writes) the body text.</summary>
public sealed class StorageRequest(HttpMessage message)
{
    private string? _body;

    public string Method { get; } = message.Request.Method.ToString();
    public string Path { get; } = Uri.UnescapeDataString(message.Request.Uri.Path);

    /// <summary>The query string, unescaped (a table query's <c>$filter</c> is here).</summary>
    public string Query { get; } = Uri.UnescapeDataString(message.Request.Uri.Query).Replace('+', ' ');

    public string Body
    {
        get
        {
            if (_body is null)
            {
                using var buffer = new MemoryStream();
                message.Request.Content?.WriteTo(buffer, CancellationToken.None);
                _body = Encoding.UTF8.GetString(buffer.ToArray());
            }
            return _body;
        }
    }

    /// <summary>A write to the job record of <paramref name="jobId"/> (the ETag-guarded update of the record row).</summary>
    public bool IsRecordUpdate(string table, string jobId) =>
        Method == "PUT" && Path.Contains($"{table}(PartitionKey='{jobId}',RowKey='job')", StringComparison.Ordinal);

    public bool IsInsertInto(string table) => Method == "POST" && Path.EndsWith("/" + table, StringComparison.Ordinal);

    public bool IsBatch => Method == "POST" && Path.EndsWith("/$batch", StringComparison.Ordinal);

    public bool IsQueueSend(string queue) => Method == "POST" && Path.EndsWith($"/{queue}/messages", StringComparison.Ordinal);

    public bool BodyHas(string text) => Body.Contains(text, StringComparison.Ordinal);
}
