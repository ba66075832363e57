using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Jobs.Functions.Api;
using Jobs.Functions.Hosting;
using Jobs.Functions.Storage;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Durable;
using Jobs.LocalRunner.Functions;
using Jobs.LocalRunner.Restarts;
using Jobs.LocalRunner.Triggers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.WebJobs.Host;
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
public static partial class RunnerHost
{
    /// <summary>The app setting that names the environment (Core Tools sets it to Development; Azure to Production).</summary>
    public const string EnvironmentSetting = "AZURE_FUNCTIONS_ENVIRONMENT";

    /// <summary>How long a timed-out HTTP function may keep its request before the runner lets the request go.</summary>
    private static readonly TimeSpan TimedOutRequestGrace = TimeSpan.FromSeconds(30);

    public static WebApplication Build(RunnerOptions options)
    {
        // Same precedence as the Functions host: local.settings.json, then the environment, then explicit overrides.
        var appSettings = AddAppSettings(new ConfigurationBuilder(), options).Build();
        // The worker's environment comes from AZURE_FUNCTIONS_ENVIRONMENT (ConfigureFunctionsWorkerDefaults adds the
        // AZURE_FUNCTIONS_ variables to the host configuration); in Development its HostApplicationBuilder validates
        // DI scopes and the whole container at build time, so the runner does too.
        var environment = appSettings[EnvironmentSetting] ?? Environments.Production;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = options.ContentRoot,
            EnvironmentName = environment,
            Args = [],
        });
        builder.Configuration.Sources.Clear();
        var hostName = new ListeningHostName();
        AddAppSettings(builder.Configuration, options, hostName);
        var development = builder.Environment.IsDevelopment();
        builder.Host.UseDefaultServiceProvider(provider =>
        {
            provider.ValidateScopes = development;
            provider.ValidateOnBuild = development;
        });
        builder.WebHost.UseUrls(options.Urls);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.IncludeScopes = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
            console.UseUtcTimestamp = true;
        });

        var host = HostSettings.Load(Path.Combine(options.ContentRoot, "host.json"), builder.Configuration);
        var catalog = new FunctionCatalog(typeof(JobsServiceCollectionExtensions).Assembly);
        // The host's own switch: AzureWebJobs.<FunctionName>.Disabled=true turns a trigger off.
        bool Enabled(FunctionDescriptor function) =>
            !builder.Configuration.GetValue<bool>($"AzureWebJobs.{function.Name}.Disabled");
        // The host's own storage: a connection string, or identity-based (AzureWebJobsStorage__accountName and friends).
        var connection = StorageConnection.TryRead(builder.Configuration.GetSection("AzureWebJobsStorage"))
            ?? throw new InvalidOperationException("AzureWebJobsStorage is not set (local.settings.json or the environment): a connection string, or AzureWebJobsStorage__accountName (or __blobServiceUri, __queueServiceUri, __tableServiceUri) for an identity-based connection.");
        var runnerKeys = builder.Configuration.GetSection(RunnerKeys.Section).Get<RunnerKeys>() ?? new RunnerKeys();
        var keys = LoadKeys(builder.Configuration, options.ContentRoot, connection, runnerKeys);
        var hubName = options.TaskHubOverride ?? host.HubName;
        // The task hub lives on storageProvider.connectionName when host.json names one, else on AzureWebJobsStorage.
        var durableConnection = StorageConnections.Resolve(builder.Configuration, host.StorageConnectionName);

        var services = builder.Services;
        services.AddJobs(builder.Configuration);
        services.AddSingleton(host);
        services.AddSingleton(catalog);
        services.AddSingleton(keys);
        services.AddSingleton(new EngineSettings(hubName, durableConnection, host, Environment.MachineName,
            $"taskHub={Uri.EscapeDataString(hubName)}&connection={Uri.EscapeDataString(host.StorageConnectionName)}&code={Uri.EscapeDataString(keys.DurableTaskSystemKey)}"));
        services.AddSingleton<DurableRequestCounter>();
        services.AddSingleton<DurableEngine>();
        // The listeners and the durable worker are what a host restart recycles: one hosted service owns them.
        var listeners = new List<Func<IServiceProvider, IHostedService>>();
        services.AddSingleton(sp => new HostRestarter(sp.GetRequiredService<DurableEngine>(),
            [.. listeners.Select(create => (Func<IHostedService>)(() => create(sp)))], sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<ILogger<HostRestarter>>()));
        services.AddHostedService(sp => sp.GetRequiredService<HostRestarter>());
        services.AddSingleton<DurableTaskClient>(sp => sp.GetRequiredService<DurableEngine>().Client);
        services.AddSingleton<DurableClientBinding>();
        options.ConfigureServices?.Invoke(services);

        // Triggers decode base64 themselves (per host.json), so a malformed message can be poisoned, not crash a batch.
        var rawQueues = connection.CreateQueueServiceClient(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        if (options.EnableQueueTriggers)
        {
            foreach (var function in catalog.Of(TriggerKind.Queue).Where(Enabled))
            {
                listeners.Add(sp => ActivatorUtilities.CreateInstance<QueueTriggerListener>(sp, function, rawQueues));
            }
        }
        if (options.EnableTimerTriggers)
        {
            // The host's own blobs (timer schedule status, singleton locks) live on AzureWebJobsStorage, as the host keeps them.
            var hostBlobs = connection.CreateBlobServiceClient();
            foreach (var function in catalog.Of(TriggerKind.Timer).Where(Enabled))
            {
                listeners.Add(sp => ActivatorUtilities.CreateInstance<TimerTriggerListener>(sp, function, hostBlobs));
            }
        }

        var app = builder.Build();
        hostName.Addresses = () => app.Urls;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Jobs.LocalRunner");
        foreach (var applied in host.TestOverridesApplied)
        {
            LogTestOverride(logger, applied);
        }
        app.Use((context, next) => HandleExceptionsAsync(context, next, logger));
        app.UseRouting();
        app.Use((context, next) => AuthorizeAsync(context, next, runnerKeys.RequireKeys, keys));
        var homepageDisabled = string.Equals(builder.Configuration["AzureWebJobsDisableHomepage"], bool.TrueString, StringComparison.OrdinalIgnoreCase);
        app.Use((context, next) => context.GetEndpoint() is null && context.Request.Path.Value == "/" ? HomepageAsync(context, homepageDisabled) : next(context));
        foreach (var function in catalog.Of(TriggerKind.Http).Where(Enabled))
        {
            MapHttpFunction(app, host, function);
        }
        // The host serves extension webhooks behind the extension's system key (DefaultScriptWebHookProvider).
        NativeDurableApi.Map(app.MapGroup("").WithMetadata(new KeyRequirement(AuthorizationLevel.System, HostKeys.DurableTaskSystemKeyName)), hubName);
        return app;
    }

    /// <summary>
    /// What must hold before <see cref="Build"/> can open storage: every storage connection the runner and the app use is
    /// set, parses and answers (<see cref="StoragePreflight"/>). Throws <see cref="StartupException"/> naming the setting.
    /// </summary>
    public static Task PreflightAsync(RunnerOptions options, CancellationToken cancellationToken)
    {
        var settings = AddAppSettings(new ConfigurationBuilder(), options).Build();
        var host = HostSettings.Load(Path.Combine(options.ContentRoot, "host.json"), settings);
        var connections = new List<StoragePreflight.Connection>();
        void Add(string setting, string? value)
        {
            var identity = settings.GetSection(setting);
            if (string.IsNullOrEmpty(value) && !identity.GetChildren().Any())
            {
                throw new StartupException($"The setting '{setting}' is not set: put a storage connection string in local.settings.json's Values " +
                    "or the environment (UseDevelopmentStorage=true for Azurite).", StartupException.InvalidSetting);
            }
            var connection = string.IsNullOrEmpty(value) ? new StoragePreflight.Connection(setting, null, identity) : new StoragePreflight.Connection(setting, value);
            if (!connections.Any(c => c.Setting == setting || (value is not null && c.Value == value)))
            {
                connections.Add(connection);
            }
        }
        Add("AzureWebJobsStorage", settings["AzureWebJobsStorage"]);
        var appSetting = settings[$"{Jobs.Functions.Storage.StorageOptions.Section}:{nameof(Jobs.Functions.Storage.StorageOptions.ConnectionSetting)}"] ?? "AzureWebJobsStorage";
        Add(appSetting, settings[appSetting] ?? settings.GetConnectionString(appSetting));
        try
        {
            // Identity-based, the hub's connection is a section of settings, not a string: when it is AzureWebJobsStorage
            // (the default) its endpoints are checked above, and otherwise Build reports what it cannot reach.
            var hub = StorageConnections.Resolve(settings, host.StorageConnectionName);
            if (hub.ConnectionString is { } hubString && connections.All(c => c.Value != hubString))
            {
                connections.Add(new StoragePreflight.Connection($"the task hub's connection '{host.StorageConnectionName}'", hubString));
            }
        }
        catch (InvalidOperationException ex)
        {
            throw new StartupException(ex.Message + " (host.json's extensions.durableTask.storageProvider.connectionName names it).", StartupException.InvalidSetting, ex);
        }
        return StoragePreflight.CheckAsync(connections, cancellationToken);
    }

    /// <summary>The route and methods come from the trigger attribute, exactly as the Functions SDK reads them.</summary>
    internal static string RouteOf(HostSettings host, FunctionDescriptor function) =>
        "/" + string.Join('/', new[] { host.RoutePrefix, function.Http!.Route ?? function.Name }.Where(p => !string.IsNullOrEmpty(p)));

    private static IConfigurationBuilder AddAppSettings(IConfigurationBuilder configuration, RunnerOptions options, ListeningHostName? hostName = null)
    {
        // Quiet defaults for chatty libraries, overridable like any setting (Logging__LogLevel__DurableTask=Information).
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:DurableTask"] = "Warning",
            ["Logging:LogLevel:Azure"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:LogLevel:Microsoft.DurableTask"] = "Warning",
        });
        if (options.LoadLocalSettings)
        {
            configuration.AddInMemoryCollection(LocalSettings.Load(Path.Combine(options.ContentRoot, "local.settings.json")));
        }
        if (hostName is not null)
        {
            configuration.Add(hostName);
        }
        configuration.AddEnvironmentVariables();
        configuration.AddInMemoryCollection(options.Settings);
        return configuration;
    }

    /// <summary>
    /// The keys the host would hold: read from (or created in) the host's secrets blob when one is needed — the master
    /// key when keys are checked, the system key when no setting gives it — with Jobs:Runner:FunctionKey and
    /// Jobs:Runner:SystemKey replacing the stored <c>default</c> function key and <c>durabletask_extension</c> key.
    /// </summary>
    private static HostKeys LoadKeys(IConfiguration configuration, string contentRoot, StorageConnection connection, RunnerKeys settings)
    {
        var stored = settings.RequireKeys || string.IsNullOrEmpty(settings.SystemKey)
            ? new HostSecretsStore(connection.CreateBlobServiceClient().GetBlobContainerClient(HostSecretsStore.ContainerName), HostId.Resolve(configuration, contentRoot))
                .LoadOrCreate(HostKeys.DurableTaskSystemKeyName)
            : new HostKeys(null, new Dictionary<string, string>(), new Dictionary<string, string>());
        var functionKeys = new Dictionary<string, string>(stored.FunctionKeys, StringComparer.OrdinalIgnoreCase);
        if (!string.IsNullOrEmpty(settings.FunctionKey))
        {
            functionKeys[HostKeys.DefaultFunctionKeyName] = settings.FunctionKey;
        }
        var systemKeys = new Dictionary<string, string>(stored.SystemKeys, StringComparer.OrdinalIgnoreCase);
        if (!string.IsNullOrEmpty(settings.SystemKey))
        {
            systemKeys[HostKeys.DurableTaskSystemKeyName] = settings.SystemKey;
        }
        return stored with { FunctionKeys = functionKeys, SystemKeys = systemKeys };
    }

    /// <summary>
    /// After routing, as the host's pipeline: a path whose methods do not include the request's is not a route there
    /// (WebScriptHostHttpRoutesManager constrains each route with HttpMethodRouteConstraint), so ASP.NET Core's own
    /// 405 answer becomes the host's empty 404; and when keys are on, a request without the key its route needs is an
    /// empty 401 (FunctionInvocationMiddleware returns UnauthorizedResult).
    /// </summary>
    private static Task AuthorizeAsync(HttpContext context, RequestDelegate next, bool requireKeys, HostKeys keys)
    {
        if (context.GetEndpoint() is { } endpoint)
        {
            if (endpoint.Metadata.GetMetadata<KeyRequirement>() is not { } requirement)
            {
                context.SetEndpoint(null);
            }
            else if (requireKeys && !keys.Authorizes(context.Request, requirement))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            }
        }
        return next(context);
    }

    /// <summary>
    /// As the host's ExceptionMiddleware: a function that throws is logged and answered 500 with no body. A function
    /// that timed out keeps its request until it stops (up to a grace period) after the 500 has been sent, so it can
    /// never touch a request context that serves someone else.
    /// </summary>
    private static async Task HandleExceptionsAsync(HttpContext context, RequestDelegate next, ILogger logger)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            LogRequestFailed(logger, ex, context.Request.Method, context.Request.Path.ToString());
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            if (ex is FunctionTimeoutException { Task: var invocation })
            {
                await context.Response.CompleteAsync();
                if (await Task.WhenAny(invocation, Task.Delay(TimedOutRequestGrace)) != invocation)
                {
                    LogStillRunning(logger, context.Request.Method, context.Request.Path.ToString(), TimedOutRequestGrace);
                }
            }
        }
    }

    /// <summary>
    /// As the host's HomepageMiddleware: a request to "/" that no function took gets an HTML page saying the app runs
    /// (the host's own page is its text, not this), or 204 when AzureWebJobsDisableHomepage is true.
    /// </summary>
    private static Task HomepageAsync(HttpContext context, bool disabled)
    {
        if (disabled)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/html";
        return context.Response.WriteAsync(
            "<!DOCTYPE html><html><head><title>Jobs</title></head><body><p>Your Functions app (Jobs, local runner) is up and running.</p></body></html>",
            context.RequestAborted);
    }

    private static void MapHttpFunction(WebApplication app, HostSettings host, FunctionDescriptor function)
    {
        var methods = (function.Http!.Methods ?? ["get", "post", "put", "delete", "patch", "head", "options"]).Select(m => m.ToUpperInvariant()).ToArray();
        app.MapMethods(RouteOf(host, function), methods, async context =>
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Jobs.LocalRunner.Http");
            var jobId = context.Request.RouteValues.TryGetValue("id", out var id) && id is string value && JobIds.IsValid(value) ? value : null;
            using var logScope = jobId is null
                ? logger.BeginScope("Function:{FunctionName}", function.Name)
                : logger.BeginScope("Function:{FunctionName} JobId:{JobId}", function.Name, jobId);
            var durable = context.RequestServices.GetRequiredService<DurableTaskClient>();
            var result = await FunctionInvoker.InvokeAsync(function, new InvocationContext(context.RequestServices, null, durable, context.RequestAborted, context));
            switch (result)
            {
                case IActionResult action:
                    await action.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));
                    break;
                case IResult plain:
                    await plain.ExecuteAsync(context);
                    break;
                case null:
                    context.Response.StatusCode = StatusCodes.Status204NoContent;
                    break;
                default:
                    await ApiResult.Ok(result).ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));
                    break;
            }
        }).WithName(function.Name).WithMetadata(new KeyRequirement(function.Http.AuthLevel));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "TEST-ONLY override in effect (the Functions host has no such setting): {Override}")]
    private static partial void LogTestOverride(ILogger logger, string @override);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed; answered 500.")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} timed out and its function still runs after {Grace}; the request is released anyway (the Functions host would restart the worker).")]
    private static partial void LogStillRunning(ILogger logger, string method, string path, TimeSpan grace);
}
