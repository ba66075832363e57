using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using Jobs.Functions.Model;

namespace Jobs.Functions.Handlers;

/// <summary>
/// The JSON Schema of a handler's input, from the C# type as System.Text.Json serializes it, with the
/// data-annotation rules the API enforces on it (<c>[Range]</c>, <c>[Required]</c>, lengths) written in as schema
/// keywords — so a form built from <c>/api/job-types</c> (the dashboard's) checks what the API checks.
/// </summary>
public static class InputSchemas
{
    private static readonly JsonSchemaExporterOptions Exporter = new() { TransformSchemaNode = AddValidation };

    public static JsonNode For(Type inputType) => JobJson.Options.GetJsonSchemaAsNode(inputType, Exporter);

    private static JsonNode AddValidation(JsonSchemaExporterContext context, JsonNode schema)
    {
        if (schema is not JsonObject node)
        {
            return schema;
        }
        if (context.PropertyInfo is null && context.TypeInfo.Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object)
        {
            var required = context.TypeInfo.Properties
                .Where(p => p.AttributeProvider?.IsDefined(typeof(RequiredAttribute), true) == true)
                .Select(p => p.Name).ToList();
            if (required.Count > 0)
            {
                var list = node["required"] as JsonArray ?? [];
                foreach (var name in required.Where(n => !list.Any(x => (string?)x == n)))
                {
                    list.Add(name);
                }
                node["required"] = list;
            }
            return node;
        }
        if (context.PropertyInfo?.AttributeProvider is not { } attributes)
        {
            return node;
        }
        var isArray = Types(node).Contains("array");
        foreach (var attribute in attributes.GetCustomAttributes(true))
        {
            switch (attribute)
            {
                case RangeAttribute range:
                    node["minimum"] = Number(range.Minimum);
                    node["maximum"] = Number(range.Maximum);
                    break;
                case StringLengthAttribute length:
                    node["maxLength"] = length.MaximumLength;
                    if (length.MinimumLength > 0)
                    {
                        node["minLength"] = length.MinimumLength;
                    }
                    break;
                case MinLengthAttribute min:
                    node[isArray ? "minItems" : "minLength"] = min.Length;
                    break;
                case MaxLengthAttribute max:
                    node[isArray ? "maxItems" : "maxLength"] = max.Length;
                    break;
                case System.ComponentModel.DescriptionAttribute description:
                    node["description"] = description.Description;
                    break;
            }
        }
        return node;
    }

    private static IEnumerable<string> Types(JsonObject node) => node["type"] switch
    {
        JsonValue value => [(string?)value ?? ""],
        JsonArray array => array.Select(t => (string?)t ?? ""),
        _ => [],
    };

    private static JsonNode? Number(object value) => value switch
    {
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        _ => JsonValue.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
    };
}
