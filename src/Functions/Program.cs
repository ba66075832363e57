using Azure.Core.Serialization;
using Jobs.Functions.Hosting;
using Jobs.Functions.Model;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using OpenTelemetry;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
// Durable inputs, outputs and custom status use the worker serializer: make it the service's one JSON shape.
builder.Services.Configure<WorkerOptions>(worker => worker.Serializer = new JsonObjectSerializer(JobJson.Options));
builder.Services.AddJobs(builder.Configuration);
// Under the Functions host: the host's trace context reaches each invocation, and the worker's own spans are added.
builder.Services.AddOpenTelemetry().UseFunctionsWorkerDefaults();
builder.Build().Run();
