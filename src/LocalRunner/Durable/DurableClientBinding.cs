using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;

namespace Jobs.LocalRunner.Durable;

/// <summary>
/// The value of a <c>[DurableClient]</c> parameter as the isolated worker binds it: the worker extension's own
/// <c>FunctionsDurableTaskClient</c> (Microsoft.Azure.Functions.Worker.Extensions.DurableTask, built by its
/// DurableTaskClientConverter from the binding data the Durable extension sends) around the runner's client, holding the
/// extension's webhook base URL and required query string. So app code gets the type it gets in Azure, and
/// <c>CreateHttpManagementPayload</c> runs the worker extension's code, not a runner shortcut.
/// <para>The type is internal to the worker extension; it is made through its constructor
/// <c>(DurableTaskClient inner, string? queryString, string? httpBaseUrl, …)</c> (1.21.1; later parameters are optional).</para>
/// </summary>
public sealed class DurableClientBinding(IConfiguration configuration, EngineSettings settings)
{
    private static readonly ConstructorInfo Constructor = FindConstructor();

    /// <summary>The worker's client around <paramref name="client"/>.</summary>
    public DurableTaskClient Bind(DurableTaskClient client)
    {
        var parameters = Constructor.GetParameters();
        var arguments = new object?[parameters.Length];
        arguments[0] = client;
        arguments[1] = settings.QueryString;
        arguments[2] = WebhookBaseUrl();
        for (var i = 3; i < parameters.Length; i++)
        {
            arguments[i] = parameters[i].HasDefaultValue ? parameters[i].DefaultValue : null;
        }
        return (DurableTaskClient)Constructor.Invoke(arguments);
    }

    /// <summary>
    /// The extension's webhook URL as the host builds it (Azure/azure-functions-host DefaultScriptWebHookProvider): the
    /// host name from <c>WEBSITE_HOSTNAME</c>, over <c>http</c> for <c>localhost:</c> and <c>https</c> otherwise.
    /// </summary>
    public string WebhookBaseUrl()
    {
        var host = configuration["WEBSITE_HOSTNAME"];
        if (string.IsNullOrEmpty(host))
        {
            throw new InvalidOperationException("WEBSITE_HOSTNAME is not set: the Durable extension's webhook URL cannot be built.");
        }
        var scheme = host.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase) ? "http" : "https";
        return $"{scheme}://{host}{NativeDurableApi.BasePath}";
    }

    private static ConstructorInfo FindConstructor()
    {
        var type = typeof(Microsoft.Azure.Functions.Worker.DurableTaskClientExtensions).Assembly.GetType("Microsoft.Azure.Functions.Worker.FunctionsDurableTaskClient", throwOnError: true)!;
        return type.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Single(c => c.GetParameters() is [var inner, var query, var baseUrl, ..]
            && inner.ParameterType == typeof(DurableTaskClient) && query.ParameterType == typeof(string) && baseUrl.ParameterType == typeof(string)
            && c.GetParameters().Skip(3).All(p => p.HasDefaultValue));
    }
}
