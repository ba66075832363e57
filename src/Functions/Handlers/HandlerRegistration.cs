using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Functions.Handlers;

/// <summary>The one place job types are registered. Adding a job type is one line here.</summary>
public static class HandlerRegistration
{
    public static IServiceCollection AddJobHandlers(this IServiceCollection services)
    {
        services.AddJobHandler<DemoStepsHandler>();
        services.AddJobHandler<ExportJobsCsvHandler>();
        services.AddJobHandler<DemoFanOutHandler>();
        services.AddJobHandler<DemoLimitedHandler>();
        services.AddJobHandler<DemoApprovalHandler>();
        services.AddJobHandler<BulkHandler>();
        services.AddSingleton<JobHandlerRegistry>();
        return services;
    }

    public static IServiceCollection AddJobHandler<THandler>(this IServiceCollection services)
        where THandler : class, IJobHandler =>
        services.AddSingleton<IJobHandler, THandler>();
}
