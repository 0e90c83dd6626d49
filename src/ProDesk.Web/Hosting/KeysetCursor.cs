using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace ProDesk.Web.Hosting;

/// <summary>
/// A position in a list ordered by a key and then by id: the last row's key and id, sealed with the data-protection
/// key ring for that list (its path, so its tenant, and its filters). Lists read the rows after it (keyset
/// pagination), so a page never repeats or skips a row when rows are added meanwhile. Sealed, because a cursor
/// travels in URLs and logs and its key is a row's name or title; bound to its list, because one tenant's cursor
/// used on another's list, or after a filter changed, silently gave a wrong page (probe round 16): now it is
/// refused on <c>cursor</c>, as a forged one is.
/// </summary>
public static class KeysetCursor
{
    public static string Write(HttpRequest request, string key, Guid id) => Seal(request, $"s:{id:N}:{key}");

    public static string Write(HttpRequest request, DateTime key, Guid id) => Seal(request, $"t:{id:N}:{key.Ticks.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>A text cursor this list gave out, null when none was given (or an empty one), or an error on <c>cursor</c>.</summary>
    public static (string Key, Guid Id)? AfterText(HttpRequest request, string? cursor, IDictionary<string, string[]> errors) =>
        After(request, cursor, 's', errors) is { } parts ? (parts.Key, parts.Id) : null;

    /// <summary>A time cursor this list gave out, null when none was given (or an empty one), or an error on <c>cursor</c>.</summary>
    public static (DateTime Key, Guid Id)? AfterTime(HttpRequest request, string? cursor, IDictionary<string, string[]> errors)
    {
        if (After(request, cursor, 't', errors) is not { } parts)
        {
            return null;
        }

        if (long.TryParse(parts.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks < DateTime.MaxValue.Ticks)
        {
            return (new DateTime(ticks, DateTimeKind.Utc), parts.Id);
        }

        errors["cursor"] = [NotOurs];
        return null;
    }

    private static (string Key, Guid Id)? After(HttpRequest request, string? cursor, char kind, IDictionary<string, string[]> errors)
    {
        // "cursor=" is the first page, as a form or a URL template with every parameter named sends it.
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }

        var after = Open(request, cursor, kind);
        if (after is null)
        {
            errors["cursor"] = [NotOurs];
        }

        return after;
    }

    public const string NotOurs = "is not a cursor this list gave out with these filters: start again without it";

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

    // The list a cursor belongs to: its path and its filters, whatever their order or case, without the page itself.
    private static string ListOf(HttpRequest request) =>
        string.Join('&', request.Query
            .Where(q => q.Key is not ("cursor" or "limit") && !string.IsNullOrEmpty(q.Value.ToString()))
            .Select(q => $"{q.Key.ToLowerInvariant()}={q.Value.ToString().ToLowerInvariant()}")
            .Order(StringComparer.Ordinal)
            .Prepend(request.Path.Value?.TrimEnd('/').ToLowerInvariant() ?? ""));

    private static IDataProtector Protector(HttpRequest request) =>
        request.HttpContext.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector("ProDesk.KeysetCursor", ListOf(request));

    private static string Seal(HttpRequest request, string position) =>
        System.Buffers.Text.Base64Url.EncodeToString(Protector(request).Protect(Encoding.UTF8.GetBytes(position)));

    private static (string Key, Guid Id)? Open(HttpRequest request, string cursor, char kind)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Protector(request).Unprotect(System.Buffers.Text.Base64Url.DecodeFromChars(cursor)));
            // "k:" + 32 hex digits + ":" + key.
            return text.Length >= 35 && text[0] == kind && text[1] == ':' && text[34] == ':' && Guid.TryParseExact(text[2..34], "N", out var id)
                ? (text[35..], id)
                : null;
        }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }
}
