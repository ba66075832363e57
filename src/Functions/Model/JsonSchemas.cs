using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;

namespace Jobs.Functions.Model;

/// <summary>
/// The JSON Schema of a type as <see cref="JobJson.Options"/> serializes it, with the data-annotation rules the API
/// enforces (<c>[Range]</c>, <c>[Required]</c>, lengths, <c>[AllowedValues]</c>) written in as schema keywords — so a form built from a
/// handler's input schema (<c>/api/job-types</c>, the dashboard's) checks what the API checks, and the OpenAPI
/// document describes what the API serializes.
/// </summary>
public static class JsonSchemas
{
    private static readonly JsonSchemaExporterOptions Exporter = new() { TransformSchemaNode = AddValidation, TreatNullObliviousAsNonNullable = true };

    public static JsonNode For(Type inputType) => JobJson.Options.GetJsonSchemaAsNode(inputType, Exporter);

    /// <summary>
    /// As <see cref="For(Type)"/>, with <paramref name="then"/> applied to every node after this class's rules (children
    /// before their parent), e.g. to describe the API's responses more tightly than what it accepts.
    /// </summary>
    public static JsonNode For(Type type, Func<JsonSchemaExporterContext, JsonNode, JsonNode> then) =>
        JobJson.Options.GetJsonSchemaAsNode(type, new JsonSchemaExporterOptions
        {
            TransformSchemaNode = (context, schema) => then(context, AddValidation(context, schema)),
            TreatNullObliviousAsNonNullable = true,
        });

    private static JsonNode AddValidation(JsonSchemaExporterContext context, JsonNode schema)
    {
        if ((Nullable.GetUnderlyingType(context.TypeInfo.Type) ?? context.TypeInfo.Type) == typeof(DateTimeOffset))
        {
            // JobJson's own converter writes and reads ISO-8601 strings, which the exporter cannot see through (it
            // exports `true`, any JSON).
            var nullable = Nullable.GetUnderlyingType(context.TypeInfo.Type) is not null;
            return new JsonObject { ["type"] = nullable ? new JsonArray("string", "null") : "string", ["format"] = "date-time" };
        }
        if (schema is not JsonObject node)
        {
            // `true` (any JSON, e.g. a JsonElement) as the equivalent `{}`: OpenAPI tooling expects schema objects.
            return schema is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.True ? new JsonObject() : schema;
        }
        if (context.TypeInfo.Kind == System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object && node["properties"] is JsonObject properties)
        {
            // Nulls are not written (JobJson.Options), so a property that may be null may be absent: not required.
            if (node["required"] is JsonArray listed)
            {
                foreach (var name in listed.Select(n => (string?)n).ToList())
                {
                    if (name is not null && properties[name] is { } property && MayBeNull(property))
                    {
                        listed.Remove(listed.First(n => (string?)n == name));
                    }
                }
                if (listed.Count == 0)
                {
                    node.Remove("required");
                }
            }
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
                case AllowedValuesAttribute allowed:
                    node["enum"] = new JsonArray([.. allowed.Values.Select(v => JsonValue.Create(v))]);
                    break;
                case System.ComponentModel.DescriptionAttribute description:
                    node["description"] = description.Description;
                    break;
            }
        }
        return node;
    }

    private static bool MayBeNull(JsonNode property) => property switch
    {
        JsonValue value => value.GetValueKind() == System.Text.Json.JsonValueKind.True, // the schema `true`: anything
        JsonObject node => !node.ContainsKey("type") && !node.ContainsKey("$ref") || Types(node).Contains("null"),
        _ => false,
    };

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
