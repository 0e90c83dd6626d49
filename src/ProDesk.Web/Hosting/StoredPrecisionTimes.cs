using System.Text.Json;
using System.Text.Json.Serialization;

namespace ProDesk.Web.Hosting;

/// <summary>
/// Times in JSON answers (API and hubs) to the microsecond, as PostgreSQL keeps them: a write's answer showed
/// <c>updatedAt</c> to the tick (100 ns) as the app's clock made it, and the next read the stored value, so a client
/// comparing the two (a change check, a cache key) saw every item changed (probe round 9). Cut, not rounded, as
/// Npgsql cuts when it writes. Reading JSON is unchanged.
/// </summary>
public static class StoredPrecisionTimes
{
    public static void AddTo(IList<JsonConverter> converters)
    {
        converters.Add(new DateTimeConverter());
        converters.Add(new DateTimeOffsetConverter());
    }

    private static long Cut(long ticks) => ticks - (ticks % TimeSpan.TicksPerMicrosecond);

    private sealed class DateTimeConverter : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDateTime();

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options) => writer.WriteStringValue(new DateTime(Cut(value.Ticks), value.Kind));
    }

    private sealed class DateTimeOffsetConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDateTimeOffset();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(new DateTimeOffset(Cut(value.Ticks), value.Offset));
    }
}
