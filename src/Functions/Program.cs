using Azure.Core.Serialization;
using Jobs.Functions.Hosting;
using Jobs.Functions.Model;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
// Durable inputs, outputs and custom status use the worker serializer: make it the service's one JSON shape.
builder.Services.Configure<WorkerOptions>(worker => worker.Serializer = new JsonObjectSerializer(JobJson.Options));
builder.Services.AddJobs();
builder.Build().Run();
