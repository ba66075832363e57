using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jobs.Functions.Model;

/// <summary>
/// The one JSON configuration of the service: HTTP bodies, queue messages, stored payloads and
/// durable inputs all use it, so a value looks the same wherever it is seen.
/// </summary>
public static class JobJson
{
    internal static readonly JsonNamingPolicy EnumNaming = JsonNamingPolicy.SnakeCaseLower;

    /// <summary>camelCase properties, snake_case enum strings, nulls omitted.</summary>
    public static JsonSerializerOptions Options { get; } = Create(strict: false);

    /// <summary>Like <see cref="Options"/> but rejects members the target type does not declare.</summary>
    public static JsonSerializerOptions Strict { get; } = Create(strict: true);

    static JsonSerializerOptions Create(bool strict)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            UnmappedMemberHandling = strict ? JsonUnmappedMemberHandling.Disallow : JsonUnmappedMemberHandling.Skip,
            AllowTrailingCommas = false,
            ReadCommentHandling = JsonCommentHandling.Disallow,
            // Responses are JSON, never HTML: '+' in times and non-ASCII text need no escaping.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new UtcDateTimeOffsetConverter());
        options.Converters.Add(new JsonStringEnumConverter(EnumNaming, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Writes every time as ISO-8601 UTC with a 'Z'; reads any ISO-8601 offset.</summary>
    private sealed class UtcDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset().ToUniversalTime();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
    }
}
