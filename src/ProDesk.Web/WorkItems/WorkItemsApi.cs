using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.Channels.Email;
using ProDesk.Domain.Sla;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Channels;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Hosting;
using ProDesk.Web.Identity;
using ProDesk.Web.Sla;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.WorkItems;

/// <summary>The work-item routes of CONTRACT.md. Tenant routes run in the tenant's scope (resolution middleware).</summary>
public static partial class WorkItemsApi
{
    // Optional members have defaults, so the OpenAPI document marks only the others required.
    /// <param name="ConversationId">Optional: the conversation (work item id, as a create answered it) this message continues.</param>
    public sealed record CreateConversation(string? From, string? Subject, string? Body, string? ExternalId, string? Name = null, Guid? ConversationId = null);

    // Every change takes the optional `version` the caller loaded (or If-Match with the GET's ETag): a stale one is
    // refused, changing nothing. Without either, the change applies to the item as it is now.
    /// <param name="Status">The status the reply leaves the item in: Open, Pending, OnHold or Solved; left out, an Open item goes Pending.</param>
    /// <param name="AttachmentIds">Optional: files already on the item (its `attachments[]`, or uploaded first) sent with the reply, by email only.</param>
    public sealed record ReplyRequest(string? Body, int? Version = null, bool Force = false, string? Status = null, IReadOnlyList<Guid>? AttachmentIds = null);

    public sealed record NoteRequest(string? Body, int? Version = null);

    public sealed record StatusRequest(string? Status, int? Version = null);

    /// <param name="Queue">The key of the queue to move the item to; left out, the queue stays.</param>
    /// <param name="Priority">Low, Normal, High or Urgent; left out, the priority stays.</param>
    public sealed record MoveRequest(string? Queue, string? Priority, int? Version = null);

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record TagsRequest(IReadOnlyList<string>? Tags, int? Version = null);

    public sealed record FieldsRequest(Dictionary<string, System.Text.Json.JsonElement>? Fields, int? Version = null);

    /// <summary>What every item-changing route's summary says of the optional version.</summary>
    internal const string StaleSummary = " With the item's `version` as loaded (or If-Match: the ETag of its GET), refused with 409 (412 for If-Match) and the new state when the item changed since; without, applied to the item as it is.";

    public const string StaffPolicy = "staff";
    public const string WritersPolicy = "work-writers";

    public static RouteGroupBuilder MapWorkItemsApi(this IEndpointRouteBuilder app)
    {
        var tenant = app.MapGroup("/api/v1/tenants/{tenant}").RequireAuthorization().WithTags("Work items");
        tenant.MapPost("/conversations", CreateAsync).RequireAuthorization(WritersPolicy)
            .WithName("CreateConversation").WithSummary("API channel: creates a conversation, or threads the message into one: the one named by conversationId, else the sender's open API conversation whose subject a \"Re:\" subject answers. The same externalId twice creates nothing new.");
        tenant.MapGet("/work-items", ListAsync).WithName("ListWorkItems").WithSummary("Work items, newest first, cursor-paginated.");
        tenant.MapGet("/work-items/{id:guid}", GetAsync).WithVersionTag().WithName("GetWorkItem").WithSummary("One item with its messages, SLA block, the customer's satisfaction rating (`csat`, null when none) and its follow-up links (`followUpOf`: the closed item it follows up, or null; `followUps`: the items that follow it up).");
        tenant.MapPost("/work-items/{id:guid}/replies", ReplyAsync).RequireAuthorization(StaffPolicy).WithVersionCheck().WithIdempotencyKey()
            .WithName("ReplyToWorkItem").WithSummary("An agent's public reply; 409 with the new state when the item changed since `version` (412 since If-Match), unless `force`. With an `Idempotency-Key` header, a retry with the same key and body answers the item again and sends nothing (`Idempotent-Replayed: true`); the key with another body or item is 422. `attachmentIds` sends files already on the item as the mail's attachments (email only; at most 10, 18 MiB in all by default). `status` sets what the reply leaves the item in (Open, Pending, OnHold, Solved; by default an Open item goes Pending). A reply by SMS to a number that texted STOP is 409 (`reason` \"opted-out\") until the customer texts START.");
        tenant.MapPost("/work-items/{id:guid}/notes", NoteAsync).RequireAuthorization(StaffPolicy).WithVersionCheck().WithName("AddNote").WithSummary("An internal note." + StaleSummary);
        tenant.MapPost("/work-items/{id:guid}/status", StatusAsync).RequireAuthorization(StaffPolicy).WithVersionCheck().WithName("ChangeStatus").WithSummary("Moves the item to another status." + StaleSummary);
        tenant.MapPut("/work-items/{id:guid}/fields", FieldsAsync).RequireAuthorization(StaffPolicy).WithVersionCheck().WithName("SetCustomFields").WithSummary("Sets the tenant's custom fields on the item (null removes one)." + StaleSummary);
        tenant.MapPost("/work-items/{id:guid}/move", MoveAsync).RequireAuthorization(StaffPolicy).WithVersionCheck().WithName("MoveWorkItem")
            .WithSummary("Moves the item to another queue of the tenant (`queue`: its key) and/or priority (`priority`); the SLA policy it arrived with keeps measuring it." + StaleSummary);
        tenant.MapPut("/work-items/{id:guid}/tags", TagsAsync).RequireAuthorization(StaffPolicy).WithVersionCheck().WithName("SetTags").WithSummary("Replaces the item's tags." + StaleSummary);
        tenant.MapAttachments();
        tenant.MapMergeConversations();
        tenant.MapAssignWorkItem();

        app.MapPost("/api/v1/work/next", NextAsync).RequireAuthorization(StaffPolicy).WithTags("Work items")
            .WithName("ClaimNextItem").WithSummary("Claims the next item due across the tenants the caller serves; 204 when none is left.");
        return tenant;
    }

    public static void AddWorkItems(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<WorkItemCommands>();
        builder.Services.AddScoped<ClaimNextItem>();
        builder.Services.AddSingleton<ClaimBatches>();
        builder.Services.AddScoped<MergeConversations>();
        builder.Services.AddScoped<AgentQueue>();
        builder.Services.AddScoped<WorkItemSearch>();
        builder.Services.AddScoped<Wallboard>();
        builder.Services.AddScoped<PushRouting>();
        builder.Services.AddSingleton<PushRouting.Cursors>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(StaffPolicy, p => p.RequireRole(Roles.Staff))
            .AddPolicy(WritersPolicy, p => p.RequireRole([.. Roles.Staff, Roles.ClientAdmin, IdentityExtensions.IntegrationRole]));
    }

    private static async Task<Results<Created<WorkItemSummary>, Ok<WorkItemSummary>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        string tenant, CreateConversation request, IngestMessage ingest, ProDeskDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        // One bare address we can reply to: "Name <a@b>" or a list would keep another address than was sent.
        var from = ReplyAddress.Normalize(request.From?.Trim());
        if (from is null)
        {
            errors["from"] = ["must be one email address we can reply to, without a display name (that goes in name)"];
        }

        // Text as people type it: no terminal control characters (ESC, BEL) for the console, logs and CSV exports to act on.
        var subject = request.Subject is null ? null : PlainText.Line(request.Subject);
        var body = request.Body is null ? null : PlainText.Body(request.Body);
        var name = request.Name is null ? null : PlainText.Line(request.Name);
        Require(errors, "subject", subject, 400);
        Require(errors, "body", body, 100_000);
        Require(errors, "externalId", request.ExternalId, 200);
        if (request.ExternalId?.Any(char.IsControl) == true)
        {
            // An id, not text: a NUL cannot even be stored in PostgreSQL.
            errors["externalId"] = ["must not contain control characters"];
        }
        if (name is { Length: > 200 })
        {
            errors["name"] = ["must be at most 200 characters"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        // Named by the caller, so a conversation that is not this tenant's is an error, never a new item (the
        // tenant filter makes another tenant's id look like no id at all).
        if (request.ConversationId is { } named
            && !await db.WorkItems.AnyAsync(w => w.Id == named && w.Kind == WorkItemKind.Conversation, cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such conversation",
                detail: "conversationId: no conversation of this client has this id");
        }

        var result = await ingest.HandleAsync(new InboundMessage("api", request.ExternalId!, from!, name, subject!, body!)
        {
            ThreadItemId = request.ConversationId,
            AnswersSubject = ReplySubject.Answered(subject!),
        }, cancellationToken);
        var summary = result.Item.Summary(result.QueueKey);
        return result.Created
            ? TypedResults.Created($"/api/v1/tenants/{tenant.ToLowerInvariant()}/work-items/{result.Item.Id}", summary)
            : TypedResults.Ok(summary);
    }

    private static async Task<Results<Ok<WorkItemPage>, ValidationProblem>> ListAsync(
        string? kind, string? status, string? queue, string? cursor, int? limit, HttpRequest request, ProDeskDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        // An empty filter is no filter: CONTRACT.md's own template (?kind=&status=&queue=&cursor=) and an HTML form send
        // every parameter.
        (kind, status, queue) = (NullIfEmpty(kind), NullIfEmpty(status), NullIfEmpty(queue));
        var query = db.WorkItems.AsNoTracking();
        // The tenant's queues, once: to check a queue filter and to name each listed item's queue.
        var queues = await db.Queues.AsNoTracking().ToDictionaryAsync(q => q.Id, q => q.Key, cancellationToken);
        if (kind is not null)
        {
            if (EnumNames.TryParse<WorkItemKind>(kind, ignoreCase: true, out var k))
            {
                query = query.Where(w => w.Kind == k);
            }
            else
            {
                errors["kind"] = [$"must be one of {string.Join(", ", Enum.GetNames<WorkItemKind>())}"];
            }
        }

        if (status is not null)
        {
            if (EnumNames.TryParse<WorkItemStatus>(status, ignoreCase: true, out var s))
            {
                query = query.Where(w => w.Status == s);
            }
            else
            {
                errors["status"] = [$"must be one of {string.Join(", ", Enum.GetNames<WorkItemStatus>())}"];
            }
        }

        if (queue is not null)
        {
            // A misspelt queue is an error, as a misspelt kind or status is, not an empty list.
            if (queues.FirstOrDefault(q => q.Value == queue) is { Value: not null } named)
            {
                query = query.Where(w => w.QueueId == named.Key);
            }
            else
            {
                errors["queue"] = [$"must be one of this client's queues: {string.Join(", ", queues.Values.Order(StringComparer.Ordinal))}"];
            }
        }

        if (KeysetCursor.AfterTime(request, cursor, errors) is { } after)
        {
            query = query.Where(w => w.CreatedAt < after.Key || (w.CreatedAt == after.Key && w.Id.CompareTo(after.Id) < 0));
        }

        var size = KeysetCursor.PageSize(limit, 50, errors);

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var page = await query.OrderByDescending(w => w.CreatedAt).ThenByDescending(w => w.Id).Take(size + 1).ToListAsync(cancellationToken);
        var items = page.Take(size).Select(w => w.Summary(queues.GetValueOrDefault(w.QueueId, ""))).ToList();
        var next = page.Count > size ? KeysetCursor.Write(request, page[size - 1].CreatedAt, page[size - 1].Id) : null;
        return TypedResults.Ok(new WorkItemPage(items, next));
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static async Task<Results<Ok<WorkItemDetail>, NotFound>> GetAsync(Guid id, HttpResponse response, ProDeskDbContext db, SlaEngine sla, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        // Internal notes and staff's files are the provider's: the client company's people and systems see the
        // conversation without them.
        var seesNotes = Attachments.SeesInternal(user);
        var item = await db.WorkItems.AsNoTracking().Include(w => w.Messages).FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
        if (item is null)
        {
            return TypedResults.NotFound();
        }

        var queueKey = await QueueKeyAsync(db, item.QueueId, cancellationToken);
        // Why a reply did not go (a relay's answer, its host name) is for staff; clients see only whether it went.
        var deliveries = await Deliveries.OfItemAsync(db, id, cancellationToken);
        var files = await db.WorkItemAttachments.AsNoTracking().Where(a => a.WorkItemId == id).VisibleTo(db, user).OrderBy(a => a.CreatedAt).ThenBy(a => a.Id).ToListAsync(cancellationToken);
        var brought = files.Where(a => a.WorkItemMessageId is not null).ToLookup(a => a.WorkItemMessageId!.Value, a => a.Id);
        var messages = item.Messages.Where(m => seesNotes || m.Kind != MessageKind.Note).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id)
            .Select(m => m.View(deliveries.GetValueOrDefault(m.Id) switch
            {
                { } d when !seesNotes => d with { Error = null },
                var d => d,
            }, brought[m.Id])).ToList();
        var changes = await ReadableAsync(db, await db.WorkItemChanges.AsNoTracking().Where(c => c.WorkItemId == id).VisibleTo(db, user).OrderBy(c => c.Id)
            .Select(c => new ChangeView(c.At, c.ActorName, c.Field, c.From, c.To)).ToListAsync(cancellationToken), cancellationToken);
        var attachments = files.Select(Attachments.View).ToList();
        // The version as a strong ETag: what a change's If-Match names to be refused when the item moved on meanwhile.
        VersionPrecondition.SetETag(response, item.Version);
        var links = await FollowUps.OfAsync(db, item, cancellationToken);
        return TypedResults.Ok(new WorkItemDetail(item.Summary(queueKey), messages, attachments, System.Text.Json.JsonDocument.Parse(item.CustomFieldsJson).RootElement.Clone(), changes, await SlaViewAsync(item, sla, cancellationToken),
            await ProDesk.Web.Csat.CsatApi.OfItemAsync(db, id, cancellationToken), links.Of, links.Ups));
    }

    /// <summary>
    /// The trail as people read it: the trail stores ids (a queue or an agent may be renamed later), shown here as the
    /// queue's key and the agent's name. An id that no longer names anything stays as it is.
    /// </summary>
    private static async Task<List<ChangeView>> ReadableAsync(ProDeskDbContext db, List<ChangeView> changes, CancellationToken cancellationToken)
    {
        List<Guid> IdsOf(string field) => [.. changes.Where(c => c.Field == field).SelectMany(c => new[] { c.From, c.To })
            .Select(v => Guid.TryParse(v, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty).Distinct()];
        var queueIds = IdsOf("queue");
        var userIds = IdsOf("assignee");
        if (queueIds.Count == 0 && userIds.Count == 0)
        {
            return changes;
        }

        // Only the lookups the trail needs: most items were assigned and never moved, so most need one.
        var names = new Dictionary<Guid, string>();
        if (queueIds.Count > 0)
        {
            foreach (var queue in await db.Queues.AsNoTracking().Where(q => queueIds.Contains(q.Id)).Select(q => new { q.Id, q.Key }).ToListAsync(cancellationToken))
            {
                names[queue.Id] = queue.Key;
            }
        }

        if (userIds.Count > 0)
        {
            using (db.OnTablesWithoutRowLevelSecurity())
            {
                foreach (var user in await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id)).Select(u => new { u.Id, u.DisplayName }).ToListAsync(cancellationToken))
                {
                    names[user.Id] = user.DisplayName;
                }
            }
        }

        string? Named(string? value) => Guid.TryParse(value, out var id) && names.TryGetValue(id, out var name) ? name : value;
        return [.. changes.Select(c => c.Field is "queue" or "assignee" ? c with { From = Named(c.From), To = Named(c.To) } : c)];
    }

    /// <summary>The item's targets (of the policy version it started under), the due time of each clock, since when it waits, and what it breached.</summary>
    private static async Task<SlaView> SlaViewAsync(WorkItem item, SlaEngine sla, CancellationToken cancellationToken)
    {
        var (states, policy, pausedSince) = await sla.StatesAsync(item, cancellationToken);
        var targets = new List<SlaTargetView>();
        AddTarget(targets, "firstResponse", policy?.FirstResponseMinutes);
        AddTarget(targets, "nextResponse", policy?.NextResponseMinutes);
        AddTarget(targets, "resolution", policy?.ResolutionMinutes);
        // Only clocks still running are due: a met first response, or clocks a solve stopped, would read as overdue.
        var dueAt = states.Where(s => s.Status == ProDesk.Domain.Sla.SlaClockStatus.Running && s.DueAt is not null)
            .ToDictionary(s => s.Target.ApiName(), s => s.DueAt!.Value.UtcDateTime);
        return new SlaView(targets, dueAt, pausedSince, [.. states.Where(s => s.EverBreached).Select(s => s.Target.ApiName())]);
    }

    /// <summary>
    /// A reply's or note's body as stored, or the problem with it. An agent's words are kept as a customer's are: no
    /// terminal controls reach the console, the logs or the customer's mail.
    /// </summary>
    private static ValidationProblem? AgentText(string? raw, out string body)
    {
        body = Channels.PlainText.Body(raw);
        // Invisible-only text ("\u200b") would be sent to the customer as an empty reply.
        return body.Length > 100_000 || Channels.PlainText.IsBlank(body)
            ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["is required and at most 100000 characters"] })
            : null;
    }

    private static async Task<Results<Ok<WorkItemSummary>, NotFound, ValidationProblem, ProblemHttpResult>> ReplyAsync(
        Guid id, ReplyRequest request, HttpContext context, WorkItemCommands commands, ProDeskDbContext db, IConfiguration configuration, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        if (AgentText(request.Body, out var body) is { } problem)
        {
            return problem;
        }

        IReadOnlyList<ReplyFiles.OutboundFile> files = [];
        if (request.AttachmentIds is { Count: > 0 })
        {
            if (await db.WorkItems.AsNoTracking().Where(w => w.Id == id).Select(w => w.Channel).FirstOrDefaultAsync(cancellationToken) is not { } channel)
            {
                return TypedResults.NotFound();
            }

            (var badFiles, files) = await ReplyFiles.CheckAsync(db, id, channel, request.AttachmentIds, ReplyFiles.MaxTotalBytes(configuration), cancellationToken);
            if (badFiles is not null)
            {
                return badFiles;
            }
        }

        if (VersionPrecondition.Read(context.Request, request.Version, out var basedOn) is { } bad)
        {
            return bad;
        }

        if (IdempotentReplies.Read(context.Request, out var key) is { } badKey)
        {
            return badKey;
        }

        WorkItemStatus? then = null;
        if (request.Status is not null)
        {
            if (!Enum.TryParse<WorkItemStatus>(request.Status, ignoreCase: true, out var asked) || !Enum.IsDefined(asked) || asked == WorkItemStatus.Closed
                || request.Status.Any(char.IsDigit))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["status"] = ["must be Open, Pending, OnHold or Solved: the status the reply leaves the item in"],
                });
            }

            then = asked;
        }

        // A retry of a reply already made (the client timed out waiting): answered as done, and nothing more is sent.
        if (key is not null && await ReplayAsync(key) is { } replayed)
        {
            return replayed;
        }

        WorkItemCommands.Result result;
        try
        {
            result = await commands.ReplyAsync(id, body, basedOn.Version, request.Force, user, cancellationToken, key, then, files);
        }
        catch (DbUpdateException) when (key is not null)
        {
            // Two retries at once: the unique index kept the other's; this one answers as its retry.
            db.ChangeTracker.Clear();
            if (await ReplayAsync(key) is { } raced)
            {
                return raced;
            }

            throw;
        }

        return await AnswerAsync(result, basedOn, context.Response, db, cancellationToken, "Load it again, or send with \"force\": true to go ahead.");

        async Task<Results<Ok<WorkItemSummary>, NotFound, ValidationProblem, ProblemHttpResult>?> ReplayAsync(string key)
        {
            switch (await IdempotentReplies.SameAsFirstAsync(db, user, key, id, body, cancellationToken))
            {
                case null:
                    return null;
                case false:
                    return IdempotentReplies.Reused();
            }

            context.Response.Headers["Idempotent-Replayed"] = "true";
            var item = await db.WorkItems.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id, cancellationToken);
            return await AnswerAsync(new WorkItemCommands.Result(item is null ? WorkItemCommands.Outcome.NotFound : WorkItemCommands.Outcome.Done, item), basedOn, context.Response, db, cancellationToken);
        }
    }

    private static async Task<Results<Ok<WorkItemSummary>, NotFound, ValidationProblem, ProblemHttpResult>> NoteAsync(
        Guid id, NoteRequest request, HttpContext context, WorkItemCommands commands, ProDeskDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (AgentText(request.Body, out var body) is { } problem)
        {
            return problem;
        }

        if (VersionPrecondition.Read(context.Request, request.Version, out var basedOn) is { } bad)
        {
            return bad;
        }

        return await AnswerAsync(await commands.NoteAsync(id, body, basedOn.Version, user, cancellationToken), basedOn, context.Response, db, cancellationToken);
    }

    private static async Task<Results<Ok<WorkItemSummary>, NotFound, ValidationProblem, ProblemHttpResult>> StatusAsync(
        Guid id, StatusRequest request, HttpContext context, WorkItemCommands commands, ProDeskDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!EnumNames.TryParse<WorkItemStatus>(request.Status, ignoreCase: true, out var status))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["status"] = [$"must be one of {string.Join(", ", Enum.GetNames<WorkItemStatus>())}"] });
        }

        if (VersionPrecondition.Read(context.Request, request.Version, out var basedOn) is { } bad)
        {
            return bad;
        }

        return await AnswerAsync(await commands.StatusAsync(id, status, basedOn.Version, user, cancellationToken), basedOn, context.Response, db, cancellationToken);
    }

    private static async Task<Results<Ok<WorkItemSummary>, NotFound, ValidationProblem, ProblemHttpResult>> MoveAsync(
        Guid id, MoveRequest request, HttpContext context, WorkItemCommands commands, ProDeskDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var queues = await db.Queues.AsNoTracking().ToDictionaryAsync(q => q.Id, q => q.Key, cancellationToken);
        (Guid Id, string Key)? queue = null;
        if (!string.IsNullOrEmpty(request.Queue))
        {
            var found = queues.FirstOrDefault(q => string.Equals(q.Value, request.Queue.Trim(), StringComparison.OrdinalIgnoreCase));
            if (found.Value is null)
            {
                errors["queue"] = [$"must be one of this client's queues: {string.Join(", ", queues.Values.Order(StringComparer.Ordinal))}"];
            }
            else
            {
                queue = (found.Key, found.Value);
            }
        }

        WorkItemPriority? priority = null;
        if (!string.IsNullOrEmpty(request.Priority))
        {
            if (EnumNames.TryParse<WorkItemPriority>(request.Priority, ignoreCase: true, out var parsed))
            {
                priority = parsed;
            }
            else
            {
                errors["priority"] = [$"must be one of {string.Join(", ", Enum.GetNames<WorkItemPriority>())}"];
            }
        }

        if (string.IsNullOrEmpty(request.Queue) && string.IsNullOrEmpty(request.Priority))
        {
            errors["queue"] = ["name a queue, a priority or both"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (VersionPrecondition.Read(context.Request, request.Version, out var basedOn) is { } bad)
        {
            return bad;
        }

        return await AnswerAsync(await commands.MoveAsync(id, queue, priority, queues, basedOn.Version, user, cancellationToken), basedOn, context.Response, db, cancellationToken);
    }

    private static async Task<Results<Ok<WorkItemSummary>, NotFound, ValidationProblem, ProblemHttpResult>> TagsAsync(
        Guid id, TagsRequest request, HttpContext context, WorkItemCommands commands, ProDeskDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (request.Tags is null)
        {
            // A body without the list is a mistake, not a wish to remove every tag: that is an empty list.
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["tags"] = ["is required (an empty list removes every tag)"] });
        }

        var nullAt = request.Tags.Select((t, i) => t is null ? i : -1).FirstOrDefault(i => i >= 0, -1);
        if (nullAt >= 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [$"tags[{nullAt}]"] = ["must be a tag, not null"] });
        }

        var tags = request.Tags.Select(t => t.Trim().ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
        var bad = tags.Select((t, i) => (t, i)).FirstOrDefault(x => !TagPattern().IsMatch(x.t));
        if (tags.Count > 20 || bad.t is not null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [bad.t is null ? "tags" : $"tags[{bad.i}]"] = ["at most 20 tags of 1 to 40 lowercase letters, digits, '-' or '_'"],
            });
        }

        if (VersionPrecondition.Read(context.Request, request.Version, out var basedOn) is { } badVersion)
        {
            return badVersion;
        }

        return await AnswerAsync(await commands.TagsAsync(id, tags, basedOn.Version, user, cancellationToken), basedOn, context.Response, db, cancellationToken);
    }

    private static async Task<Results<Ok<WorkItemSummary>, NotFound, ValidationProblem, ProblemHttpResult>> FieldsAsync(
        Guid id, FieldsRequest request, HttpContext context, WorkItemCommands commands, ProDeskDbContext db, ITenantContext tenantContext, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var current = await db.WorkItems.AsNoTracking().Where(w => w.Id == id).Select(w => w.CustomFieldsJson).FirstOrDefaultAsync(cancellationToken);
        if (current is null || tenantContext.Current is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        if (request.Fields is null)
        {
            // As for tags: a body without the object is a mistake (a misspelt property), not a change.
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["fields"] = ["is required (an object of field keys and values; null removes a value)"] });
        }

        // Checked once here for the answer's errors; merged again into the item as the command finds it, so two agents
        // setting different fields at once both keep theirs (a merge into this first read would drop the other's).
        var fields = request.Fields;
        var (json, errors) = CustomFields.Apply(tenant, current, fields);
        if (json is null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (VersionPrecondition.Read(context.Request, request.Version, out var basedOn) is { } bad)
        {
            return bad;
        }

        return await AnswerAsync(await commands.FieldsAsync(id, now => CustomFields.Apply(tenant, now, fields).Json ?? now, basedOn.Version, user, cancellationToken), basedOn, context.Response, db, cancellationToken);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\A[a-z0-9][a-z0-9_-]{0,39}\z")]
    private static partial System.Text.RegularExpressions.Regex TagPattern();

    private static async Task<Results<Ok<WorkItemSummary>, NoContent, ValidationProblem>> NextAsync(string? kind, ClaimNextItem claim, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        WorkItemKind? wanted = null;
        // `kind=` (CONTRACT.md's own template) is any kind, as an empty filter is on the list.
        if (!string.IsNullOrEmpty(kind))
        {
            if (!EnumNames.TryParse<WorkItemKind>(kind, ignoreCase: true, out var k))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["kind"] = [$"must be one of {string.Join(", ", Enum.GetNames<WorkItemKind>())}"] });
            }

            wanted = k;
        }

        var claimed = await claim.HandleAsync(user, wanted, cancellationToken);
        return claimed is null ? TypedResults.NoContent() : TypedResults.Ok(claimed);
    }

    private static async Task<Results<Ok<WorkItemSummary>, NotFound, ValidationProblem, ProblemHttpResult>> AnswerAsync(
        WorkItemCommands.Result result, VersionPrecondition basedOn, HttpResponse response, ProDeskDbContext db, CancellationToken cancellationToken, string? staleAdvice = null)
    {
        if (result.Item is { } item)
        {
            // The version the item is at now, for the caller's next If-Match.
            VersionPrecondition.SetETag(response, item.Version);
        }

        return result.Outcome switch
        {
            WorkItemCommands.Outcome.Done => TypedResults.Ok(result.Item!.Summary(await QueueKeyAsync(db, result.Item!.QueueId, cancellationToken))),
            WorkItemCommands.Outcome.Stale => Stale(result.Item!.Summary(await QueueKeyAsync(db, result.Item!.QueueId, cancellationToken)), basedOn.StaleStatus, staleAdvice),
            WorkItemCommands.Outcome.Refused => TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["status"] = [result.Error!] }),
            WorkItemCommands.Outcome.Closed => IsClosed(result.Item!.Summary(await QueueKeyAsync(db, result.Item!.QueueId, cancellationToken))),
            WorkItemCommands.Outcome.Busy => Busy(result.Item!.Summary(await QueueKeyAsync(db, result.Item!.QueueId, cancellationToken))),
            WorkItemCommands.Outcome.OptedOut => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The customer opted out of texts",
                detail: $"Nothing was sent: {result.Error}.", extensions: new Dictionary<string, object?> { ["reason"] = "opted-out" }),
            _ => TypedResults.NotFound(),
        };
    }

    /// <summary>
    /// 409 as problem details (the API's one error format; 412 when the version came as If-Match), with the item as it
    /// is now in <c>current</c> (and its <c>version</c> at the top), so the console can show what changed and the agent
    /// can load it again (or, for a reply, send anyway with force=true). Nothing was changed.
    /// </summary>
    public static ProblemHttpResult Stale(WorkItemSummary current, int status = StatusCodes.Status409Conflict, string? advice = null) => TypedResults.Problem(
        statusCode: status,
        title: "The item changed since it was loaded",
        detail: $"Nothing was changed: it is now {current.Status} at version {current.Version}. {advice ?? "Load it again and make the change on what it holds now."}",
        extensions: new Dictionary<string, object?> { ["reason"] = "changed", ["version"] = current.Version, ["current"] = current });

    /// <summary>
    /// 409 as problem details when a change that named no version (or was forced) lost to others saving the item on every
    /// attempt: nothing was changed, and sending the same request again is safe (<c>reason</c> "busy", not "changed").
    /// </summary>
    public static ProblemHttpResult Busy(WorkItemSummary current) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "The item is being changed by others right now",
        detail: "Nothing was changed: others saved the item on every attempt. Send the same request again.",
        extensions: new Dictionary<string, object?> { ["reason"] = "busy", ["version"] = current.Version, ["current"] = current });

    /// <summary>409 as problem details: the item is Closed, and Closed is final (<c>reason</c> tells it from a change).</summary>
    public static ProblemHttpResult IsClosed(WorkItemSummary current) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "The item is closed",
        detail: "A Closed item takes no more replies, notes, tags, fields or files; the customer's next message starts a follow-up item.",
        extensions: new Dictionary<string, object?> { ["reason"] = "closed", ["version"] = current.Version, ["current"] = current });

    internal static async Task<string> QueueKeyAsync(ProDeskDbContext db, Guid queueId, CancellationToken cancellationToken) =>
        await db.Queues.Where(q => q.Id == queueId).Select(q => q.Key).FirstOrDefaultAsync(cancellationToken) ?? "";

    private static void AddTarget(List<SlaTargetView> targets, string name, int? minutes)
    {
        if (minutes is { } m)
        {
            targets.Add(new SlaTargetView(name, m));
        }
    }

    private static void Require(Dictionary<string, string[]> errors, string field, string? value, int max)
    {
        if (value is null || Channels.PlainText.IsBlank(value) || value.Length > max)
        {
            errors[field] = [$"is required and at most {max} characters"];
        }
    }
}
