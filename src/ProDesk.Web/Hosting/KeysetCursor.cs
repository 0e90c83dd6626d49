using System.Globalization;
using System.Text;

namespace ProDesk.Web.Hosting;

/// <summary>
/// An opaque position in a list ordered by a key and then by id: the last row's key and id, in
/// base64url. Lists read the rows after it (keyset pagination), so a page never repeats or skips a
/// row when rows are added meanwhile. Only shape is checked; a forged cursor just starts elsewhere.
/// </summary>
public static class KeysetCursor
{
    public static string Write(string key, Guid id) => Encode($"s:{id:N}:{key}");

    public static string Write(DateTime key, Guid id) => Encode($"t:{id:N}:{key.Ticks.ToString(CultureInfo.InvariantCulture)}");

    public static (string Key, Guid Id)? ReadText(string cursor) =>
        Decode(cursor, 's') is { } parts ? (parts.Key, parts.Id) : null;

    public static (DateTime Key, Guid Id)? ReadTime(string cursor) =>
        Decode(cursor, 't') is { } parts && long.TryParse(parts.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks < DateTime.MaxValue.Ticks
            ? (new DateTime(ticks, DateTimeKind.Utc), parts.Id)
            : null;

    /// <summary>A text cursor this API gave out, null when none was given (or an empty one), or an error on <c>cursor</c>.</summary>
    public static (string Key, Guid Id)? AfterText(string? cursor, IDictionary<string, string[]> errors) => After(cursor, ReadText, errors);

    /// <summary>A time cursor this API gave out, null when none was given (or an empty one), or an error on <c>cursor</c>.</summary>
    public static (DateTime Key, Guid Id)? AfterTime(string? cursor, IDictionary<string, string[]> errors) => After(cursor, ReadTime, errors);

    private static T? After<T>(string? cursor, Func<string, T?> read, IDictionary<string, string[]> errors)
        where T : struct
    {
        // "cursor=" is the first page, as a form or a URL template with every parameter named sends it.
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }

        var after = read(cursor);
        if (after is null)
        {
            errors["cursor"] = [NotOurs];
        }

        return after;
    }

    public const string NotOurs = "is not a cursor this API gave out";

    /// <summary>The page size a list was asked for (<paramref name="fallback"/> when not), or an error on <c>limit</c> outside 1..200.</summary>
    public static int PageSize(int? limit, int fallback, IDictionary<string, string[]> errors)
    {
        var size = limit ?? fallback;
        if (size is < 1 or > 200)
        {
            errors["limit"] = ["must be between 1 and 200"];
        }

        return size;
    }

    private static string Encode(string text) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

    private static (string Key, Guid Id)? Decode(string cursor, char kind)
    {
        try
        {
            var text = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(cursor));
            // "k:" + 32 hex digits + ":" + key; a NUL could never be stored in a key (PostgreSQL text refuses it).
            return text.Length >= 35 && !text.Contains('\0', StringComparison.Ordinal) && text[0] == kind && text[1] == ':' && text[34] == ':' && Guid.TryParseExact(text[2..34], "N", out var id)
                ? (text[35..], id)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
