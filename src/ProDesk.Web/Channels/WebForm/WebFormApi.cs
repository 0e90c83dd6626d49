using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using ProDesk.Domain.Channels.Email;
using ProDesk.Domain.Channels.WebForm;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;
using ProDesk.Web.WorkItems;
using WebFormResult = Microsoft.AspNetCore.Http.HttpResults.Results<
    Microsoft.AspNetCore.Http.HttpResults.Created<ProDesk.Web.Channels.WebForm.WebFormAnswer>,
    Microsoft.AspNetCore.Http.HttpResults.Ok<ProDesk.Web.Channels.WebForm.WebFormAnswer>,
    Microsoft.AspNetCore.Http.HttpResults.ValidationProblem,
    Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult,
    ProDesk.Web.Channels.WebForm.SeeOtherHttpResult,
    Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult>;

namespace ProDesk.Web.Channels.WebForm;

/// <summary>The JSON answer: the work item the submission is in; outcome "created" or "duplicate".</summary>
public sealed record WebFormAnswer(Guid Id, string Outcome);

/// <summary>
/// The public contact form (CONTRACT.md): a plain HTML form on the client's site, or a script, posts
/// here with the tenant's widget key. The key is public (it sits in the page), so it only names the
/// tenant's form; abuse is held off by the rate limits (<see cref="WebFormRateLimit"/>), a honeypot
/// field, size limits and idempotency. Replies go to the given address by mail.
/// </summary>
/// <remarks>
/// No CSRF token and no Origin check: the form is meant to be posted from other sites, a submission
/// acts for nobody, and a script can send any Origin it likes. No acknowledgment mail either: anyone
/// may type any address here, and we would be mailing strangers on their behalf.
/// </remarks>
public static class WebFormApi
{
    public const string HoneypotField = "website";

    public static void MapWebForm(this IEndpointRouteBuilder app)
    {
        app.MapPost("/channels/webform/{tenant}", SubmitAsync)
            .WithMetadata(new NoTenantAttribute()).DisableAntiforgery().AllowAnonymous()
            // The client's own site posts here from its origin; its script may read the answer (201 with the id, or the
            // fields at fault), after a preflight when it sets its own Content-Type or Accept. No credentials are
            // involved, so any origin may.
            .RequireCors(policy => policy.AllowAnyOrigin().WithMethods("POST").WithHeaders("Content-Type", "Accept", "Accept-Language").SetPreflightMaxAge(TimeSpan.FromHours(1)))
            // One limiter for the app's life: AddEndpointFilter<T> would build a new one per request.
            .AddEndpointFilter(app.ServiceProvider.GetRequiredService<WebFormRateLimit>())
            .WithTags("Channels").WithName("SubmitWebForm")
            .WithSummary("A public form post (urlencoded or multipart) with the tenant's widget key in `key`: `name`, `email`, `subject`, `message`, "
                + "optional files, `submissionId` (idempotency) and `returnUrl` (303 back to one of the tenant's hosts for browsers). Rate limited per IP and per tenant.");
    }

    private static async Task<WebFormResult> SubmitAsync(
        string tenant, HttpContext context, IOptions<WebFormOptions> options, ProDeskPaths paths, TimeProvider clock, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var html = WantsHtml(context.Request);
        // The request is judged as a request before any tenant is looked up, as the SMS route does: an answer that
        // differed for a known and an unknown slug would tell a stranger which client companies the desk serves.
        if (!context.Request.HasFormContentType)
        {
            return Problem(html, StatusCodes.Status415UnsupportedMediaType, "Send a form", "Content-Type: must be application/x-www-form-urlencoded or multipart/form-data");
        }

        var form = await ReadFormAsync(context, limits, cancellationToken);
        if (form.Problem is { } unreadable)
        {
            return Problem(html, unreadable.Status, unreadable.Title, unreadable.Detail);
        }

        var found = await ChannelTenant.FindAsync(context, tenant);
        using var scope = ChannelTenant.Enter(context, found);
        if (found is null)
        {
            return WrongKey(html);
        }

        var fields = form.Fields!;
        var settings = await ChannelTenant.SettingsAsync(context, found);
        if (settings is null || !KeyMatches(fields["key"], settings.WidgetKey))
        {
            return WrongKey(html);
        }

        // A bot fills every field it sees, the hidden one too: it gets the answer a person gets, and nothing is stored.
        if (!string.IsNullOrEmpty(fields[HoneypotField]))
        {
            return Success(html, found, fields, new WebFormAnswer(Guid.CreateVersion7(), "created"), created: true);
        }

        var submission = Validate(fields, limits, out var errors);
        if (!errors.ContainsKey("email") && await context.RequestServices.GetRequiredService<ChannelSettingsCache>().IsDeskAddressAsync(submission.Email, cancellationToken))
        {
            errors["email"] = [DeskAddressMessage];
        }

        if (errors.Count > 0)
        {
            if (html)
            {
                return ErrorPage(StatusCodes.Status400BadRequest, "Please check the form", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}")));
            }

            return TypedResults.ValidationProblem(errors, title: "Please check the form");
        }

        // Only a submission about to be stored counts against the tenant's limit (see WebFormRateLimit).
        if (context.RequestServices.GetRequiredService<WebFormRateLimit>().TryTenant(context) is { } retryAfter)
        {
            return html ? WebFormRateLimit.TooManyPage(retryAfter) : WebFormRateLimit.TooManyProblem(retryAfter);
        }

        // The submission is whole in hand: it is stored even if the browser goes away meanwhile.
        var attachments = await StoreFilesAsync(submission.Files, paths, found.Id, CancellationToken.None);
        var message = new InboundMessage("webform", ExternalId(submission, clock.GetUtcNow(), limits.DuplicateWindow), submission.Email, submission.Name, submission.Subject, submission.Message)
        {
            Attachments = attachments,
        };
        // A write that fails, or a submission stored before (which kept its own files), deletes these files again (IngestMessage).
        var result = await context.RequestServices.GetRequiredService<IngestMessage>().HandleAsync(message, CancellationToken.None);
        return Success(html, found, fields, new WebFormAnswer(result.Item.Id, result.Duplicate ? "duplicate" : "created"), created: !result.Duplicate);
    }

    public const string DeskAddressMessage = "is a help desk's own address: enter yours, so the answer reaches you";

    private sealed record Submission(string Name, string Email, string Subject, string Message, string? SubmissionId, IReadOnlyList<IFormFile> Files);

    private sealed record ReadProblem(int Status, string Title, string Detail);

    private sealed record ReadForm(IFormCollection? Fields, ReadProblem? Problem);

    private const int FieldNameLimit = 256;

    private const int FieldValueLimit = 1024 * 1024;

    private static async Task<ReadForm> ReadFormAsync(HttpContext context, WebFormOptions limits, CancellationToken cancellationToken)
    {
        var tooLarge = new ReadProblem(StatusCodes.Status413PayloadTooLarge, "Submission too large", $"attachments: at most {limits.MaxRequestBytes} bytes in all");
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limits.MaxRequestBytes;
        }

        if (context.Request.ContentLength > limits.MaxRequestBytes)
        {
            return new ReadForm(null, tooLarge);
        }

        // Our own limits instead of the host's defaults: a few short fields and a handful of files.
        context.Features.Set<IFormFeature>(new FormFeature(context.Request, new Microsoft.AspNetCore.Http.Features.FormOptions
        {
            ValueCountLimit = 64,
            KeyLengthLimit = FieldNameLimit,
            ValueLengthLimit = FieldValueLimit,
            MultipartBodyLengthLimit = limits.MaxRequestBytes,
            MultipartHeadersCountLimit = 16,
        }));
        try
        {
            return new ReadForm(await context.Request.ReadFormAsync(cancellationToken), null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new ReadForm(null, tooLarge);
        }
        catch (InvalidDataException e) when (e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase) && !e.Message.Contains("body length", StringComparison.OrdinalIgnoreCase)
            && !context.RequestAborted.IsCancellationRequested)
        {
            // A field name or value over the form reader's own limits. The reader does not say which field (the urlencoded
            // one even reports a long value as a long key), so neither can we: the answer names the form and our limits.
            return new ReadForm(null, new ReadProblem(StatusCodes.Status413PayloadTooLarge, "Submission too large",
                $"form: a field's name or value is longer than the form reader takes ({FieldNameLimit} and {FieldValueLimit} characters); "
                + $"name and subject take at most {limits.MaxNameLength} and {limits.MaxSubjectLength}, message at most {limits.MaxMessageLength}"));
        }
        catch (InvalidDataException e) when (e.Message.Contains("body length limit", StringComparison.OrdinalIgnoreCase) && !context.RequestAborted.IsCancellationRequested)
        {
            return new ReadForm(null, tooLarge);
        }
        catch (Exception e) when (RequestForms.IsMalformed(e, context))
        {
            return new ReadForm(null, new ReadProblem(StatusCodes.Status400BadRequest, "Unreadable form", $"form: {e.Message}"));
        }
    }

    private static Submission Validate(IFormCollection fields, WebFormOptions limits, out Dictionary<string, string[]> errors)
    {
        var found = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string error)
        {
            if (!found.TryGetValue(field, out var list))
            {
                found[field] = list = [];
            }

            list.Add(error);
        }

        var name = Text(fields["name"]);
        // An address, not text: a control character in it is refused (as the API channel does), never dropped, which
        // would reply to another address than was typed.
        var email = fields["email"].ToString().Trim();
        var subject = Text(fields["subject"]);
        var message = PlainText.Body(fields["message"].ToString());
        var submissionId = Text(fields["submissionId"]);

        if (name.Length > limits.MaxNameLength)
        {
            Add("name", $"at most {limits.MaxNameLength} characters");
        }

        if (email.Length == 0)
        {
            Add("email", "is required");
        }
        else if (ReplyAddress.Normalize(email) is { } reachable)
        {
            email = reachable;
        }
        else
        {
            Add("email", "is not a valid email address we can reply to");
        }

        if (subject.Length > limits.MaxSubjectLength)
        {
            Add("subject", $"at most {limits.MaxSubjectLength} characters");
        }

        if (PlainText.IsBlank(message))
        {
            Add("message", message.Length == 0 ? "is required" : "is required (invisible characters alone are no message)");
        }
        else if (message.Length > limits.MaxMessageLength)
        {
            Add("message", $"at most {limits.MaxMessageLength} characters");
        }

        if (submissionId.Length > 100 || submissionId.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or ':')))
        {
            Add("submissionId", "at most 100 letters, digits and - _ . :");
        }

        // A file input left empty still sends a part with no name and no bytes; a named file without any is a file that
        // did not make it (a cloud placeholder, a file emptied meanwhile), and the customer must not think it was sent.
        var files = fields.Files.Where(f => f.Length > 0).ToList();
        foreach (var empty in fields.Files.Where(f => f.Length == 0 && !string.IsNullOrWhiteSpace(f.FileName)))
        {
            Add(empty.Name, $"{SafeFileName.From(empty.FileName, "a file")} is empty");
        }

        if (files.Count > limits.MaxFiles)
        {
            Add("attachments", $"at most {limits.MaxFiles} files");
        }

        foreach (var file in files.Where(f => f.Length > limits.MaxFileBytes))
        {
            Add(file.Name, $"{SafeFileName.From(file.FileName, "a file")} is larger than {limits.MaxFileBytes} bytes");
        }

        errors = found.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
        return new Submission(name, email.ToLowerInvariant(), subject.Length > 0 ? subject : SubjectLine.FromBody(message, "Web form"),
            message, submissionId.Length > 0 ? submissionId : null, files);
    }

    /// <summary>
    /// The dedupe key: the sender's own <c>submissionId</c> (a form page puts a random one in a hidden
    /// field, so a double click or a resent POST is one submission; scoped to the address, so one
    /// sender can never collide with another's) with what it says: the browser's Back button brings the
    /// same id back with the next question, which must not be dropped as a repeat of the first. Without an id,
    /// a hash of address, subject and message within a fixed window (a later, identical message outside it is a new submission).
    /// </summary>
    private static string ExternalId(Submission submission, DateTimeOffset now, TimeSpan window)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{submission.Email}\n{submission.Subject}\n{submission.Message}")));
        if (submission.SubmissionId is { } id)
        {
            return $"id:{submission.Email}:{id}:{hash[..16]}";
        }

        var bucket = now.ToUnixTimeSeconds() / Math.Max(1, (long)window.TotalSeconds);
        return $"hash:{hash}:{bucket.ToString(CultureInfo.InvariantCulture)}";
    }

    private static async Task<IReadOnlyList<InboundAttachment>> StoreFilesAsync(IReadOnlyList<IFormFile> files, ProDeskPaths paths, Guid tenantId, CancellationToken cancellationToken)
    {
        return await Attachments.WriteBlobsAsync(paths, tenantId, files.Select(file => new Attachments.BlobToWrite(
            Guid.CreateVersion7(), file.OpenReadStream, SafeFileName.From(file.FileName, "attachment"), Attachments.MediaType(file.ContentType))), cancellationToken);
    }

    private static WebFormResult Success(
        bool html, TenantInfo tenant, IFormCollection fields, WebFormAnswer answer, bool created)
    {
        if (!html)
        {
            var location = $"/api/v1/tenants/{tenant.Slug}/work-items/{answer.Id}";
            if (created)
            {
                return TypedResults.Created(location, answer);
            }

            return TypedResults.Ok(answer);
        }

        // Back to the client's site only when it is one of the tenant's own hosts: never an open redirect.
        if (ReturnUrl.Allowed(fields["returnUrl"], tenant.Hosts) is { } back)
        {
            return new SeeOtherHttpResult(back.AbsoluteUri);
        }

        return WebFormPages.Page(StatusCodes.Status200OK, "Thank you", $"{tenant.Name} received your message and will answer you by email.", []);
    }

    private static ContentHttpResult ErrorPage(int status, string title, IEnumerable<string> lines) =>
        WebFormPages.Page(status, title, "Go back to the form, correct the following and send it again:", lines);

    private static WebFormResult Problem(bool html, int status, string title, string detail)
    {
        if (html)
        {
            return ErrorPage(status, title, [detail]);
        }

        return TypedResults.Problem(statusCode: status, title: title, detail: detail);
    }

    /// <summary>An unknown tenant and a wrong key get the same answer.</summary>
    private static WebFormResult WrongKey(bool html) =>
        Problem(html, StatusCodes.Status403Forbidden, "Unknown tenant or wrong widget key", "key: send the tenant's widget key");

    private static bool KeyMatches(string? presented, string widgetKey) =>
        !string.IsNullOrEmpty(presented) && presented.Length <= 512
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(widgetKey)));

    private static string Text(Microsoft.Extensions.Primitives.StringValues value) => PlainText.Line(value.ToString());

    /// <summary>A browser's form post asks for HTML; scripts (fetch, curl) ask for JSON or anything, and get JSON.</summary>
    internal static bool WantsHtml(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        var htmlQuality = accept.Where(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        var jsonQuality = accept.Where(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || a.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true)
            .Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        return htmlQuality > 0 && htmlQuality >= jsonQuality;
    }
}
