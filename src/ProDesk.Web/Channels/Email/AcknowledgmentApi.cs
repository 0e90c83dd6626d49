using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Audit;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// The client's automatic acknowledgment of new mail: on or off, and in the client's own words and language. The
/// provider admin for any client, a client admin for its own (what its customers receive in its name is its call);
/// everyone else, and another client's admin, gets 404.
/// </summary>
public static class AcknowledgmentApi
{
    /// <param name="Enabled">Whether new mail is acknowledged (RFC 3834's rules and the loop breaker still apply).</param>
    /// <param name="Text">The text sent: the client's own, or the standard one.</param>
    /// <param name="Standard">True when <paramref name="Text"/> is the standard text (no text of the client's is set).</param>
    /// <param name="Placeholders">What the text may name, as <c>{{name}}</c>.</param>
    public sealed record AcknowledgmentView(bool Enabled, string Text, bool Standard, IReadOnlyList<string> Placeholders);

    /// <param name="Enabled">Required: whether new mail is acknowledged.</param>
    /// <param name="Text">The client's text with placeholders; null or left out: the standard text.</param>
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record AcknowledgmentRequest(bool? Enabled, string? Text = null);

    public static void MapAcknowledgmentApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/tenants/{tenant}/channels/email/acknowledgment")
            .RequireAuthorization(CurrentSession.TenantAdminPolicy).WithTags("Channels");
        group.MapGet("", GetAsync).WithName("GetAcknowledgment")
            .WithSummary("The automatic acknowledgment of new mail: whether it is sent, and its text (provider admins; the tenant's client admins).");
        group.MapPut("", PutAsync).WithName("SetAcknowledgment")
            .WithSummary("Turns the acknowledgment on or off and sets its text in the client's words: { \"enabled\": true, \"text\": \"Bonjour {{contact.name}}, ... {{item.reference}}\" }; text null for the standard one. Takes effect on every node within 30 seconds.");
    }

    private static async Task<Results<Ok<AcknowledgmentView>, NotFound>> GetAsync(ProDeskDbContext db, ITenantContext tenants, CancellationToken cancellationToken)
    {
        var settings = tenants.Current is null ? null : await db.ChannelSettings.AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        return settings is null ? TypedResults.NotFound() : TypedResults.Ok(View(settings));
    }

    private static async Task<Results<Ok<AcknowledgmentView>, ValidationProblem, NotFound>> PutAsync(
        AcknowledgmentRequest request, ProDeskDbContext db, ITenantContext tenants, ChannelSettingsCache cache, AuditLog audit, ClaimsPrincipal actor,
        CancellationToken cancellationToken)
    {
        if (tenants.Current is not { } tenant || await db.ChannelSettings.FirstOrDefaultAsync(cancellationToken) is not { } settings)
        {
            return TypedResults.NotFound();
        }

        var errors = new Dictionary<string, string[]>();
        if (request.Enabled is null)
        {
            errors["enabled"] = ["is required: true or false"];
        }

        // As people type it: line breaks and tabs stay, terminal control characters do not reach anyone's inbox.
        var text = request.Text is null ? null : PlainText.Body(request.Text).Trim();
        if (text is not null && AcknowledgmentText.Problem(text) is { } problem)
        {
            errors["text"] = [problem];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        settings.AcknowledgmentsOff = request.Enabled == false;
        settings.AcknowledgmentText = text;
        await db.SaveChangesAsync(cancellationToken);
        // This node at once; the others when their copy expires (ChannelSettingsCache.Lifetime).
        cache.Forget(tenant);
        await audit.RecordAsync(AuditLog.AcknowledgmentChanged, actor, settings.AcknowledgmentsOff ? "off" : text is null ? "standard text" : "own text",
            tenant.Id, cancellationToken: cancellationToken);
        return TypedResults.Ok(View(settings));
    }

    private static AcknowledgmentView View(ProDesk.Data.Channels.ChannelSettings settings) =>
        new(!settings.AcknowledgmentsOff, settings.AcknowledgmentText ?? AcknowledgmentText.Standard, settings.AcknowledgmentText is null, AcknowledgmentText.Known);
}
