using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using Jobs.Functions.Model;
using Jobs.Functions.Submissions;

namespace Jobs.Functions.Api;

/// <summary>
/// The component schemas of the OpenAPI document: each type's <see cref="JsonSchemas"/> export, narrowed to what is on
/// the wire, so a client generated from the document has the types it will receive. Numbers are written as numbers
/// (JobJson only <em>reads</em> them from strings too), so an integer is <c>integer</c> with its format; nulls are never
/// written, so no property is <c>null</c> and a property is <c>required</c> exactly when it cannot be null; a shared
/// shape (another component's type, an enum) is a <c>$ref</c>. A request body lists what the API requires
/// (<c>[Required]</c>), leaves out <see cref="QueueOnlyAttribute"/> members and allows nothing else
/// (<see cref="JobJson.Strict"/> refuses unknown members).
/// </summary>
public static class OpenApiSchemas
{
    /// <summary>Where the document keeps its components.</summary>
    public const string RefPrefix = "#/components/schemas/";

    public static JsonObject Ref(string component) => new() { ["$ref"] = RefPrefix + component };

    /// <summary>The schema of a body the API writes; <paramref name="components"/> names the types written as <c>$ref</c>.</summary>
    public static JsonObject Response(Type type, IReadOnlyDictionary<Type, string> components) =>
        JsonSchemas.For(type, (context, node) => Narrow(context, node, components, request: false)).AsObject();

    /// <summary>The schema of a body the API reads.</summary>
    public static JsonObject Request(Type type, IReadOnlyDictionary<Type, string> components) =>
        JsonSchemas.For(type, (context, node) => Narrow(context, node, components, request: true)).AsObject();

    private static JsonNode Narrow(JsonSchemaExporterContext context, JsonNode schema, IReadOnlyDictionary<Type, string> components, bool request)
    {
        var type = Nullable.GetUnderlyingType(context.TypeInfo.Type) ?? context.TypeInfo.Type;
        if (context.Path.Length > 0 && components.TryGetValue(type, out var component))
        {
            return Ref(component);
        }
        if (schema is not JsonObject node)
        {
            return schema;
        }
        if (node.TryGetPropertyValue("default", out var fallback) && fallback is null)
        {
            node.Remove("default"); // a parameter's `= null`: never written
        }
        if (type.IsEnum)
        {
            var names = node["enum"]!.AsArray().Where(n => n is not null).Select(n => n!.DeepClone());
            return new JsonObject { ["type"] = "string", ["enum"] = new JsonArray([.. names]) };
        }
        if (IntegerFormat(type) is { } format)
        {
            // The export allows "12" too (JobJson reads numbers from strings); the API writes 12.
            node.Remove("pattern");
            node["type"] = "integer";
            node["format"] = format;
        }
        else if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            node.Remove("pattern");
            node["type"] = "number";
        }
        else if (node["type"] is JsonArray types)
        {
            var kept = types.Select(t => (string?)t).Where(t => t != "null").ToList();
            node["type"] = kept.Count == 1 ? kept[0] : new JsonArray([.. kept.Select(t => (JsonNode?)t)]);
        }
        if (context.TypeInfo.Kind == JsonTypeInfoKind.Object && node["properties"] is JsonObject properties)
        {
            List<string> required = [];
            foreach (var property in context.TypeInfo.Properties)
            {
                if (!properties.ContainsKey(property.Name))
                {
                    continue; // not written (a [JsonIgnore]d member)
                }
                if (request && property.AttributeProvider?.IsDefined(typeof(QueueOnlyAttribute), true) == true)
                {
                    properties.Remove(property.Name);
                }
                else if (request
                    ? property.AttributeProvider?.IsDefined(typeof(RequiredAttribute), true) == true
                    : property.IsRequired || !MayBeNull(property))
                {
                    required.Add(property.Name);
                }
            }
            node.Remove("required");
            if (required.Count > 0)
            {
                node["required"] = new JsonArray([.. required.Select(n => (JsonNode?)n)]);
            }
            if (request)
            {
                node["additionalProperties"] = false;
            }
        }
        return node;
    }

    /// <summary>Whether a property may hold null, and so (nulls being omitted) may be absent from a written body.</summary>
    private static bool MayBeNull(JsonPropertyInfo property) =>
        Nullable.GetUnderlyingType(property.PropertyType) is not null || (!property.PropertyType.IsValueType && property.IsGetNullable);

    private static string? IntegerFormat(Type type) => Type.GetTypeCode(type) switch
    {
        TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 => "int32",
        TypeCode.UInt32 or TypeCode.Int64 or TypeCode.UInt64 => "int64",
        _ => null,
    };
}
