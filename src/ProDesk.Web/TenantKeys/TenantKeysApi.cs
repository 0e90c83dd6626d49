using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.TenantKeys;

/// <summary>
/// Rotating a tenant's machine secrets (<see cref="RotateTenantKeys"/>): the provider admin for any tenant, a client admin
/// for its own (PRODUCT.md: client admins manage their own API clients). Everyone else, integration clients included (a
/// leaked secret must not rotate itself out of its owner's hands), and another tenant's admin, gets 404.
/// </summary>
public static class TenantKeysApi
{
    public sealed record ClientSecretView(string ClientId, string ClientSecret, long AccessTokensRevoked);

    public sealed record InboundKeyView(string InboundKey);

    public sealed record WidgetKeyView(string WidgetKey);

    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    public sealed record SmsAuthTokenRequest(string? AuthToken);

    public const int MaxSmsAuthTokenLength = 200;

    public static void AddTenantKeys(this WebApplicationBuilder builder) => builder.Services.AddScoped<RotateTenantKeys>();

    public static RouteGroupBuilder MapTenantKeysApi(this IEndpointRouteBuilder app)
    {
        var tenant = app.MapGroup("/api/v1/tenants/{tenant}").RequireAuthorization(CurrentSession.TenantAdminPolicy).WithTags("Keys");
        tenant.MapGet("/clients", ListClientsAsync).WithName("ListIntegrationClients")
            .WithSummary("The tenant's integration clients (client_credentials), without their secrets (provider admins; the tenant's client admins).");
        tenant.MapPost("/clients/{clientId}/secret", RotateClientSecretAsync).WithName("RotateClientSecret")
            .WithSummary("Gives the client a new secret, shown in this answer only. The old secret gets no new token from now on, and the access tokens it got stop working within a minute.");
        tenant.MapPost("/channels/inbound-key", RotateInboundKeyAsync).WithName("RotateInboundKey")
            .WithSummary("A new inbound mail key (X-ProDesk-Key), shown in this answer only; the old key is refused within 30 seconds on every node.");
        tenant.MapPost("/channels/widget-key", RotateWidgetKeyAsync).WithName("RotateWidgetKey")
            .WithSummary("A new widget key for the chat widget and the web form; pages still embedding the old key are refused within 30 seconds.");
        tenant.MapPut("/channels/sms-auth-token", SetSmsAuthTokenAsync).WithName("SetSmsAuthToken")
            .WithSummary("Sets the SMS gateway's auth token that signs its webhooks (X-Twilio-Signature), after rotating it at the gateway: { \"authToken\" }.");
        return tenant;
    }

    private static async Task<Results<Ok<List<RotateTenantKeys.Client>>, NotFound>> ListClientsAsync(
        ITenantContext tenantContext, RotateTenantKeys keys, CancellationToken cancellationToken) =>
        tenantContext.Current is { } tenant ? TypedResults.Ok(await keys.ClientsAsync(tenant, cancellationToken)) : TypedResults.NotFound();

    private static async Task<Results<Ok<ClientSecretView>, NotFound>> RotateClientSecretAsync(
        string clientId, ITenantContext tenantContext, RotateTenantKeys keys, ClaimsPrincipal actor, HttpResponse response, CancellationToken cancellationToken)
    {
        // Another tenant's client (or one of none) is as unknown as a client that does not exist.
        if (tenantContext.Current is not { } tenant || await keys.RotateClientSecretAsync(tenant, clientId, actor, cancellationToken) is not { } rotated)
        {
            return TypedResults.NotFound();
        }

        NotStored(response);
        return TypedResults.Ok(new ClientSecretView(rotated.ClientId, rotated.ClientSecret, rotated.AccessTokensRevoked));
    }

    private static async Task<Results<Ok<InboundKeyView>, NotFound>> RotateInboundKeyAsync(
        ITenantContext tenantContext, RotateTenantKeys keys, ClaimsPrincipal actor, HttpResponse response, CancellationToken cancellationToken)
    {
        if (tenantContext.Current is not { } tenant || await keys.RotateInboundKeyAsync(tenant, actor, cancellationToken) is not { } key)
        {
            return TypedResults.NotFound();
        }

        NotStored(response);
        return TypedResults.Ok(new InboundKeyView(key));
    }

    private static async Task<Results<Ok<WidgetKeyView>, NotFound>> RotateWidgetKeyAsync(
        ITenantContext tenantContext, RotateTenantKeys keys, ClaimsPrincipal actor, HttpResponse response, CancellationToken cancellationToken)
    {
        if (tenantContext.Current is not { } tenant || await keys.RotateWidgetKeyAsync(tenant, actor, cancellationToken) is not { } key)
        {
            return TypedResults.NotFound();
        }

        NotStored(response);
        return TypedResults.Ok(new WidgetKeyView(key));
    }

    private static async Task<Results<NoContent, NotFound, ValidationProblem>> SetSmsAuthTokenAsync(
        SmsAuthTokenRequest request, ITenantContext tenantContext, RotateTenantKeys keys, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        if (tenantContext.Current is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        if (string.IsNullOrWhiteSpace(request.AuthToken) || request.AuthToken.Length > MaxSmsAuthTokenLength || request.AuthToken.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["authToken"] = [$"must be the gateway's token: one word of at most {MaxSmsAuthTokenLength} characters"] });
        }

        return await keys.SetSmsAuthTokenAsync(tenant, request.AuthToken, actor, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    // A secret in an answer: no cache, proxy or browser history keeps it.
    private static void NotStored(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }
}
