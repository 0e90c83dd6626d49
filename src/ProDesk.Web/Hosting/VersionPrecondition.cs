using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace ProDesk.Web.Hosting;

/// <summary>
/// The version a change was made on, for the optimistic check of records that carry one (work items, contacts): the
/// body's <c>version</c>, or an <c>If-Match</c> header holding the <c>ETag</c> a GET gave (the version as a strong
/// quoted tag, <c>"7"</c>). Neither: no check, the last writer wins, as before versions were asked for.
/// </summary>
/// <remarks>
/// A stale body <c>version</c> answers 409 (the contract replies have had since the start, and the console reads);
/// a failed <c>If-Match</c> answers 412, as RFC 9110 13.1.1 requires and HTTP clients sending it expect. Both carry
/// the same problem body (<c>reason</c> "changed", <c>version</c>, <c>current</c>).
/// </remarks>
public readonly record struct VersionPrecondition(int? Version, bool FromHeader)
{
    /// <summary>The strong ETag of a version: its number, quoted.</summary>
    public static string ETag(int version) => $"\"{version}\"";

    public static void SetETag(HttpResponse response, int version) => response.Headers.ETag = ETag(version);

    /// <summary>The status a stale change is answered with: 412 for a failed If-Match, else 409.</summary>
    public int StaleStatus => FromHeader ? StatusCodes.Status412PreconditionFailed : StatusCodes.Status409Conflict;

    /// <summary>
    /// Reads the precondition, or the problem with it (the field or header named). An If-Match tag that is weak or is
    /// no version we give out can never match (strong comparison), so it reads as version 0, which no record has.
    /// </summary>
    public static ValidationProblem? Read(HttpRequest request, int? bodyVersion, out VersionPrecondition precondition)
    {
        precondition = default;
        if (bodyVersion is < 1)
        {
            // Records start at version 1: no one loaded this one, and a "changed since" answer would send them looking.
            return Problem("version", "must be the version as loaded (1 or more)");
        }

        var values = request.Headers.IfMatch;
        if (values.Count == 0)
        {
            precondition = new VersionPrecondition(bodyVersion, false);
            return null;
        }

        if (!EntityTagHeaderValue.TryParseStrictList(values, out var tags) || tags.Count != 1)
        {
            return Problem(HeaderNames.IfMatch, "must be one entity tag, the ETag the GET gave (such as \"7\"), or *");
        }

        var tag = tags[0];
        if (tag.Equals(EntityTagHeaderValue.Any))
        {
            // "*": any current version will do; the record must exist, which every route checks anyway.
            precondition = new VersionPrecondition(bodyVersion, false);
            return null;
        }

        var tagged = !tag.IsWeak && int.TryParse(tag.Tag.AsSpan(1, tag.Tag.Length - 2), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 1 ? v : 0;
        if (bodyVersion is { } body && body != tagged)
        {
            return Problem("version", $"differs from the If-Match header ({tag}); send one of the two");
        }

        precondition = new VersionPrecondition(tagged, true);
        return null;
    }

    private static ValidationProblem Problem(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
