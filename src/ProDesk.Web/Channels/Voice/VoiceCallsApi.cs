using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Domain.Contacts;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Voice;

/// <summary>
/// The voice route of CONTRACT.md: a telephony system (a PBX, a call-centre platform, a secretary's softphone) posts
/// one record per call it took or missed for a client, and the call becomes a secretary task in the client's
/// secretary queue (the default queue when the client has none): who called, when, for how long, the message taken
/// or the voicemail's transcript, a link to the recording. Authenticated by the tenant's inbound key, as the inbound
/// mail route is: both are the client's gateways into the desk. The same callId twice stores one task.
/// </summary>
public static partial class VoiceCallsApi
{
    public const string Channel = "voice";

    /// <summary>The queue a call goes to unless the record names another.</summary>
    public const string SecretaryQueue = "secretary";

    /// <summary>What a caller's number is when the network withheld it; every such call goes to one contact.</summary>
    public const string WithheldNumber = "withheld";

    public const string WithheldContactName = "Withheld number";

    private static readonly string[] WithheldSpellings = ["anonymous", "private", "withheld", "unknown", "restricted", "unavailable"];

    private const int MaxBodyBytes = 64 * 1024;

    private const int MaxMessageChars = 20_000;

    /// <param name="CallId">The telephony system's id of the call: the same id twice stores one task.</param>
    /// <param name="From">The caller's number (E.164, or national in the client's country); "anonymous" when withheld.</param>
    /// <param name="CallerName">The name the caller gave, or caller-id's.</param>
    /// <param name="CallbackNumber">The number the caller asked to be called back on, when not the one they called from.</param>
    /// <param name="To">The number the caller dialled (the client's line).</param>
    /// <param name="StartedAt">When the call began (ISO 8601; without an offset, on the client's clock); now when left out.</param>
    /// <param name="DurationSeconds">How long it lasted (0 to 86,400).</param>
    /// <param name="Outcome">answered (a message was taken), missed or voicemail; answered when left out.</param>
    /// <param name="Message">The message taken, or the voicemail's transcript.</param>
    /// <param name="RecordingUrl">Where the recording is kept (http or https); listed on the task, never fetched.</param>
    /// <param name="Queue">The queue for the task (its key); the client's secretary queue when left out.</param>
    public sealed record CallRecord(
        string? CallId, string? From, string? CallerName = null, string? CallbackNumber = null, string? To = null, string? StartedAt = null,
        int? DurationSeconds = null, string? Outcome = null, string? Message = null, string? RecordingUrl = null, string? Queue = null);

    public sealed record CallAnswer(Guid WorkItemId, string Outcome, string Queue);

    public static void MapVoiceCalls(this IEndpointRouteBuilder app)
    {
        app.MapPost("/channels/voice/{tenant}/calls", CallAsync)
            .WithMetadata(new NoTenantAttribute(), new NoUserAuthenticationAttribute()).DisableAntiforgery().AllowAnonymous()
            .WithTags("Channels").WithName("InboundCall")
            .WithSummary("A call record from a telephony system (JSON), authenticated by the tenant's inbound key in X-ProDesk-Key: a secretary task in the tenant's secretary queue (201), or the same task again for a callId already stored (200).");
    }

    private static async Task<Results<Created<CallAnswer>, Ok<CallAnswer>, ValidationProblem, ProblemHttpResult>> CallAsync(
        string tenant, HttpContext context, TimeProvider clock, CancellationToken cancellationToken)
    {
        // What is wrong with the request itself is said before the tenant is looked at, alike for every tenant.
        if (!context.Request.HasJsonContentType())
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Content-Type: send application/json");
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return TooLarge();
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxBodyBytes;
        }

        CallRecord? record;
        try
        {
            record = await context.Request.ReadFromJsonAsync<CallRecord>(cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge();
        }
        catch (System.Text.Json.JsonException e)
        {
            // As for every JSON route (ApiInput): the field at fault, named by its path.
            var (field, problem) = ApiInput.FieldOf(e);
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [problem] });
        }

        if (record is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["$"] = ["is required (a JSON object)"] });
        }

        var found = await ChannelTenant.FindAsync(context, tenant);
        using var scope = ChannelTenant.Enter(context, found);
        var settings = await ChannelTenant.SettingsAsync(context, found);
        if (found is null || settings is null || !InboundKeys.Matches(context.Request.Headers[EmailInboundApi.KeyHeader], settings.InboundKeyHash))
        {
            return EmailInboundApi.WrongKey(context);
        }

        var region = PhoneRegion.OfTimeZone(found.TimeZone);
        var errors = new Dictionary<string, string[]>();
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(found.TimeZone, out var tenantZone) ? tenantZone : null;
        var call = Read(record, region, zone, errors);
        var db = context.RequestServices.GetRequiredService<ProDeskDbContext>();
        var queue = record.Queue is null ? null : PlainText.Line(record.Queue);
        if (!string.IsNullOrEmpty(queue) && !await db.Queues.AnyAsync(q => q.Key == queue, cancellationToken))
        {
            errors["queue"] = ["is not a queue of this client (leave it out for the secretary queue)"];
        }

        if (errors.Count > 0 || call is null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var now = clock.GetUtcNow();
        // The withheld calls' one contact is named for what it is, not for its first caller; each call names its caller.
        var fromName = call.Number == WithheldNumber ? WithheldContactName : call.CallerName;
        var message = new InboundMessage(Channel, call.Id, call.Number, fromName, Subject(call), Body(call, record, now, zone))
        {
            FromIsPhone = true,
            // Nobody to acknowledge to: a caller is answered by calling back.
            Automatic = true,
            Kind = WorkItemKind.SecretaryTask,
            QueueKey = string.IsNullOrEmpty(queue) ? SecretaryQueue : queue,
        };
        // Not cancelled by the caller hanging up: the record is authenticated and ours to keep; a retry finds it stored.
        var result = await context.RequestServices.GetRequiredService<IngestMessage>().HandleAsync(message, CancellationToken.None);
        var answer = new CallAnswer(result.Item.Id, result.Created ? "created" : "duplicate", result.QueueKey);
        return result.Created
            ? TypedResults.Created($"/api/v1/tenants/{found.Slug}/work-items/{result.Item.Id}", answer)
            : TypedResults.Ok(answer);
    }

    /// <summary>A call record checked and cleaned; null when a required field is wrong (named in <paramref name="errors"/>).</summary>
    private sealed record Call(string Id, string Number, bool Withheld, string? CallerName, string? Callback, string Outcome, DateTimeOffset? Started);

    private static Call? Read(CallRecord record, string? region, TimeZoneInfo? zone, Dictionary<string, string[]> errors)
    {
        var id = record.CallId?.Trim();
        if (string.IsNullOrEmpty(id))
        {
            errors["callId"] = ["is required: the telephony system's id of the call"];
        }
        else if (id.Length > 128 || id.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            errors["callId"] = ["must be at most 128 characters, without spaces or control characters"];
        }

        var from = record.From?.Trim();
        var withheld = string.IsNullOrEmpty(from) ? (bool?)null : WithheldSpellings.Contains(from, StringComparer.OrdinalIgnoreCase);
        var number = withheld == false ? PhoneNumber.Normalize(from, region) : null;
        if (withheld is null)
        {
            errors["from"] = ["is required: the caller's number, or \"anonymous\" when it was withheld"];
        }
        else if (withheld == false && number is null)
        {
            errors["from"] = ["must be a phone number, or \"anonymous\" when it was withheld"];
        }

        var callback = string.IsNullOrWhiteSpace(record.CallbackNumber) ? null : PhoneNumber.Normalize(record.CallbackNumber.Trim(), region);
        if (!string.IsNullOrWhiteSpace(record.CallbackNumber) && callback is null)
        {
            errors["callbackNumber"] = ["must be a phone number"];
        }

        var name = record.CallerName is null ? null : PlainText.Line(record.CallerName);
        if (name is { Length: > 200 })
        {
            errors["callerName"] = ["must be at most 200 characters"];
        }

        if (record.To is { } to && (to.Length > 40 || PhoneNumber.Normalize(to.Trim(), region) is null))
        {
            errors["to"] = ["must be a phone number"];
        }

        DateTimeOffset? started = null;
        if (record.StartedAt is { } startedAt && (started = StartOf(startedAt, zone)) is null)
        {
            errors["startedAt"] = ["must be a date and time (ISO 8601, e.g. 2026-11-29T09:15:00Z; without an offset it is the client's local time)"];
        }

        if (record.DurationSeconds is < 0 or > 86_400)
        {
            errors["durationSeconds"] = ["must be between 0 and 86400"];
        }

        var outcome = (record.Outcome?.Trim() ?? "answered").ToLowerInvariant();
        if (outcome is not ("answered" or "missed" or "voicemail"))
        {
            errors["outcome"] = ["must be answered, missed or voicemail"];
        }

        if (record.Message is { Length: > MaxMessageChars })
        {
            errors["message"] = [$"must be at most {MaxMessageChars} characters"];
        }

        if (record.RecordingUrl is { } url
            && (url.Length > 2000 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)))
        {
            errors["recordingUrl"] = ["must be an http or https URL of at most 2000 characters"];
        }

        if (errors.Count > 0)
        {
            return null;
        }

        // A withheld caller who left a number to call back is known by that number; one who left none joins every other
        // withheld call's contact, as a switchboard's log would list them.
        var identity = withheld == true ? callback ?? WithheldNumber : number!;
        return new Call(id!, identity, withheld == true, string.IsNullOrEmpty(name) ? null : name, callback, outcome, started);
    }

    private static string Subject(Call call)
    {
        var who = call.CallerName ?? (call.Withheld ? call.Callback ?? "a withheld number" : call.Number);
        return call.Outcome switch
        {
            "missed" => $"Missed call from {who}",
            "voicemail" => $"Voicemail from {who}",
            _ => $"Call from {who}",
        };
    }

    private static string Body(Call call, CallRecord record, DateTimeOffset now, TimeZoneInfo? zone)
    {
        var text = new StringBuilder();
        var message = record.Message is null ? "" : PlainText.Body(record.Message).Trim();
        if (message.Length > 0)
        {
            text.Append(message).Append("\n\n");
        }
        else if (call.Outcome == "answered")
        {
            text.Append("(no message taken)\n\n");
        }

        text.Append(call.Outcome switch { "missed" => "Missed call", "voicemail" => "Voicemail", _ => "Call" });
        text.Append(" from ").Append(call.Withheld ? "a withheld number" : call.Number);
        if (call.CallerName is not null)
        {
            text.Append(" (").Append(call.CallerName).Append(')');
        }

        text.Append('\n').Append("At: ").Append(LocalTime(call.Started ?? now, zone));
        if (record.DurationSeconds is { } seconds)
        {
            text.Append('\n').Append("Duration: ").Append(Duration(seconds));
        }

        if (record.To is { } to)
        {
            text.Append('\n').Append("Dialled: ").Append(PlainText.Line(to));
        }

        if (call.Callback is { } callback && callback != call.Number)
        {
            text.Append('\n').Append("Call back on: ").Append(callback);
        }
        else if (call.Withheld)
        {
            text.Append('\n').Append("Call back on: no number left");
        }

        if (record.RecordingUrl is { } url)
        {
            text.Append('\n').Append("Recording: ").Append(new Uri(url).AbsoluteUri);
        }

        return text.ToString();
    }

    /// <summary>The call's time on the client's clock, which is what the client's people read the task by.</summary>
    private static string LocalTime(DateTimeOffset at, TimeZoneInfo? zone) =>
        zone is null
            ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC"
            : TimeZoneInfo.ConvertTime(at, zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " (" + zone.Id + ")";

    /// <summary>
    /// An ISO 8601 time. A switchboard that writes no offset writes its own wall clock, which is the client's: read so,
    /// not as UTC (an hour off in Paris) or as this server's zone.
    /// </summary>
    private static DateTimeOffset? StartOf(string text, TimeZoneInfo? zone)
    {
        text = text.Trim();
        if (text.Length is < 16 or > 40 || !char.IsAsciiDigit(text[0]) || text[4] != '-')
        {
            return null;
        }

        if (text.EndsWith('Z') || text.EndsWith('z') || OffsetAtEnd().IsMatch(text))
        {
            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var withOffset) ? withOffset : null;
        }

        if (!DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return null;
        }

        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        // A wall time skipped by a DST change is read an hour on, as the clocks moved.
        if (zone is not null && zone.IsInvalidTime(local))
        {
            local = local.AddHours(1);
        }

        return new DateTimeOffset(local, zone?.GetUtcOffset(local) ?? TimeSpan.Zero);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"[+-]\d{2}:?\d{2}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex OffsetAtEnd();

    private static string Duration(int seconds) =>
        seconds < 60 ? $"{seconds} s" : seconds % 60 == 0 ? $"{seconds / 60} min" : $"{seconds / 60} min {seconds % 60} s";

    private static ProblemHttpResult TooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large", detail: $"body: at most {MaxBodyBytes} bytes");
}
