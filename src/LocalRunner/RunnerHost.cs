using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Jobs.Functions.Api;
using Jobs.Functions.Hosting;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Durable;
using Jobs.LocalRunner.Functions;
using Jobs.LocalRunner.Triggers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner;

/// <summary>
/// Hosts the Functions app without the Functions host: the same function classes and services, every HTTP trigger
/// on its route, queue and timer triggers with the host's semantics, and the durable engine on Azure Storage.
/// </summary>
public static class RunnerHost
{
    public static WebApplication Build(RunnerOptions options)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = options.ContentRoot, Args = [] });
        // Same precedence as the Functions host: local.settings.json, then the environment, then explicit overrides.
        builder.Configuration.Sources.Clear();
        // Quiet defaults for chatty libraries, overridable like any setting (Logging__LogLevel__DurableTask=Information).
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:DurableTask"] = "Warning",
            ["Logging:LogLevel:Azure"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:LogLevel:Microsoft.DurableTask"] = "Warning",
        });
        if (options.LoadLocalSettings)
        {
            builder.Configuration.AddInMemoryCollection(LocalSettings.Load(Path.Combine(options.ContentRoot, "local.settings.json")));
        }
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(options.Settings);
        builder.WebHost.UseUrls(options.Urls);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.IncludeScopes = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
            console.UseUtcTimestamp = true;
        });

        var host = HostSettings.Load(Path.Combine(options.ContentRoot, "host.json"));
        var catalog = new FunctionCatalog(typeof(JobsServiceCollectionExtensions).Assembly);
        // The host's own switch: AzureWebJobs.<FunctionName>.Disabled=true turns a trigger off.
        bool Enabled(FunctionDescriptor function) =>
            !builder.Configuration.GetValue<bool>($"AzureWebJobs.{function.Name}.Disabled");
        var keys = builder.Configuration.GetSection(RunnerKeys.Section).Get<RunnerKeys>() ?? new RunnerKeys();
        // The system key opens every instance of the task hub: generated per process unless configured, never logged.
        var systemKey = string.IsNullOrEmpty(keys.SystemKey) ? Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)) : keys.SystemKey;
        var hubName = options.TaskHubOverride ?? host.HubName;
        var connection = builder.Configuration["AzureWebJobsStorage"]
            ?? throw new InvalidOperationException("AzureWebJobsStorage is not set (local.settings.json or the environment).");

        var services = builder.Services;
        services.AddJobs();
        services.AddSingleton(host);
        services.AddSingleton(catalog);
        services.AddSingleton(new EngineSettings(hubName, connection, host, Environment.MachineName, NativeDurableApi.BasePath,
            $"taskHub={Uri.EscapeDataString(hubName)}&connection=Storage&code={systemKey}"));
        services.AddSingleton<DurableRequestCounter>();
        services.AddSingleton<DurableEngine>();
        services.AddHostedService(sp => sp.GetRequiredService<DurableEngine>());
        services.AddSingleton<DurableTaskClient>(sp => sp.GetRequiredService<DurableEngine>().Client);
        options.ConfigureServices?.Invoke(services);

        // Triggers decode base64 themselves (per host.json), so a malformed message can be poisoned, not crash a batch.
        var rawQueues = new QueueServiceClient(connection, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        if (options.EnableQueueTriggers)
        {
            foreach (var function in catalog.Of(TriggerKind.Queue).Where(Enabled))
            {
                services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<QueueTriggerListener>(sp, function, rawQueues));
            }
        }
        if (options.EnableTimerTriggers)
        {
            // The host's own blobs (timer schedule status, singleton locks) live on AzureWebJobsStorage, as the host keeps them.
            var hostBlobs = new BlobServiceClient(connection);
            foreach (var function in catalog.Of(TriggerKind.Timer).Where(Enabled))
            {
                services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<TimerTriggerListener>(sp, function, hostBlobs));
            }
        }

        var app = builder.Build();
        app.UseStatusCodePages(async context =>
        {
            // Unmatched routes and methods get problem+json like every other error.
            var request = context.HttpContext.Request;
            var status = context.HttpContext.Response.StatusCode;
            var detail = status == StatusCodes.Status405MethodNotAllowed
                ? $"{request.Method} is not allowed on {request.Path}."
                : $"Nothing is served at {request.Path}.";
            await Problems.Create(request, status, status == 405 ? "Method not allowed" : "Not found", detail)
                .ExecuteResultAsync(new ActionContext(context.HttpContext, new RouteData(), new ActionDescriptor()));
        });
        foreach (var function in catalog.Of(TriggerKind.Http).Where(Enabled))
        {
            MapHttpFunction(app, host, function, keys, systemKey);
        }
        NativeDurableApi.Map(app, systemKey, hubName);
        return app;
    }

    /// <summary>The route and methods come from the trigger attribute, exactly as the Functions SDK reads them.</summary>
    internal static string RouteOf(HostSettings host, FunctionDescriptor function) =>
        "/" + string.Join('/', new[] { host.RoutePrefix, function.Http!.Route ?? function.Name }.Where(p => !string.IsNullOrEmpty(p)));

    private static void MapHttpFunction(WebApplication app, HostSettings host, FunctionDescriptor function, RunnerKeys keys, string systemKey)
    {
        var methods = (function.Http!.Methods ?? ["get", "post", "put", "delete", "patch", "head", "options"]).Select(m => m.ToUpperInvariant()).ToArray();
        app.MapMethods(RouteOf(host, function), methods, async context =>
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Jobs.LocalRunner.Http");
            var jobId = context.Request.RouteValues.TryGetValue("id", out var id) && id is string value && JobIds.IsValid(value) ? value : null;
            using var logScope = jobId is null
                ? logger.BeginScope("Function:{FunctionName}", function.Name)
                : logger.BeginScope("Function:{FunctionName} JobId:{JobId}", function.Name, jobId);
            if (keys.RequireKeys && function.Http.AuthLevel != AuthorizationLevel.Anonymous && !HasKey(context.Request, keys, systemKey))
            {
                await Execute(context, Problems.Create(context.Request, StatusCodes.Status401Unauthorized, "Unauthorized",
                    "A function key is required (code query parameter or x-functions-key header)."));
                return;
            }
            var durable = context.RequestServices.GetRequiredService<DurableTaskClient>();
            var result = await FunctionInvoker.InvokeAsync(function, new InvocationContext(context.RequestServices, null, durable, context.RequestAborted, context));
            switch (result)
            {
                case IActionResult action:
                    await Execute(context, action);
                    break;
                case IResult plain:
                    await plain.ExecuteAsync(context);
                    break;
                case null:
                    context.Response.StatusCode = StatusCodes.Status204NoContent;
                    break;
                default:
                    await Execute(context, ApiResult.Ok(result));
                    break;
            }
        }).WithName(function.Name);
    }

    private static bool HasKey(HttpRequest request, RunnerKeys keys, string systemKey)
    {
        var given = request.Query["code"].FirstOrDefault() ?? request.Headers["x-functions-key"].FirstOrDefault();
        return given is not null && (string.Equals(given, keys.FunctionKey, StringComparison.Ordinal) || string.Equals(given, systemKey, StringComparison.Ordinal));
    }

    private static Task Execute(HttpContext context, IActionResult result) =>
        result.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));
}
