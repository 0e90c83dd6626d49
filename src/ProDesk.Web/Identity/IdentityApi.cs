using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using ProDesk.Data.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Identity;

/// <summary>Who the caller is and where it may act: GET /api/v1/me and GET /api/v1/tenants (CONTRACT.md).</summary>
public static class IdentityApi
{
    public sealed record TenantSummary(string Slug, string Name, string TimeZone, string Status);

    public sealed record Caller(string Id, string? Email, string DisplayName, IReadOnlyList<string> Roles, IReadOnlyList<TenantSummary> Tenants);

    public sealed record TokenSummary(Guid Id, string Name, string Prefix, DateTime CreatedAt, DateTime? LastUsedAt, DateTime? RevokedAt);

    public sealed record CreateTokenRequest(string? Name);

    public sealed record CreatedToken(Guid Id, string Name, string Token);

    public static RouteGroupBuilder MapIdentityApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Identity");

        api.MapGet("/me", GetMe).WithName("GetMe").WithSummary("The caller: id, email, roles and the tenants it may act in.");
        api.MapGet("/tenants", GetTenants).WithName("ListTenants").WithSummary("The tenants the caller may see.");

        var tokens = api.MapGroup("/me/tokens").WithTags("Personal access tokens");
        tokens.MapGet("/", ListTokens).WithName("ListMyTokens").WithSummary("The caller's personal access tokens (never the secrets).");
        tokens.MapPost("/", CreateToken).RequireAuthorization(CurrentSession.Policy).WithName("CreateMyToken").WithSummary("Creates a personal access token; the secret is in this answer only.");
        tokens.MapDelete("/{id:guid}", RevokeToken).WithName("RevokeMyToken").WithSummary("Revokes one of the caller's tokens.");
        return api;
    }

    private static async Task<Ok<Caller>> GetMe(ClaimsPrincipal user, TenantAccess access, CancellationToken cancellationToken)
    {
        var scope = await access.ScopeOfAsync(user, cancellationToken);
        return TypedResults.Ok(new Caller(
            user.FindFirstValue(ProDeskClaims.Subject) ?? "",
            user.FindFirstValue(ProDeskClaims.Email),
            user.FindFirstValue(ProDeskClaims.Name) ?? user.Identity?.Name ?? "",
            user.FindAll(ProDeskClaims.Role).Select(c => c.Value).Distinct().Order(StringComparer.Ordinal).ToList(),
            scope.Tenants.Select(Summary).ToList()));
    }

    private static async Task<Ok<List<TenantSummary>>> GetTenants(ClaimsPrincipal user, TenantAccess access, CancellationToken cancellationToken) =>
        TypedResults.Ok((await access.ScopeOfAsync(user, cancellationToken)).Tenants.Select(Summary).ToList());

    private static async Task<Results<Ok<List<TokenSummary>>, NotFound>> ListTokens(ClaimsPrincipal principal, UserManager<AppUser> users, PersonalAccessTokens tokens, CancellationToken cancellationToken) =>
        await UserOfAsync(principal, users) is { } user
            ? TypedResults.Ok((await tokens.ListAsync(user.Id, cancellationToken)).Select(t => new TokenSummary(t.Id, t.Name, t.Prefix, t.CreatedAt, t.LastUsedAt, t.RevokedAt)).ToList())
            : TypedResults.NotFound();

    private static async Task<Results<Created<CreatedToken>, NotFound, ValidationProblem, ProblemHttpResult>> CreateToken(
        CreateTokenRequest request, HttpContext context, ClaimsPrincipal principal, UserManager<AppUser> users, PersonalAccessTokens tokens, CancellationToken cancellationToken)
    {
        if (request.Name is { Length: > PersonalAccessTokens.MaxNameLength })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [$"must be at most {PersonalAccessTokens.MaxNameLength} characters"] });
        }

        if (await UserOfAsync(principal, users) is not { } user)
        {
            return TypedResults.NotFound();
        }

        if (BearerToken.From(context.Request) is not null)
        {
            // A token that can mint tokens makes a stolen one permanent: revoking it would leave its children working.
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Tokens are made by a signed-in person",
                detail: "Create personal access tokens while signed in (Account, Tokens) or with the `token create` command, not with another token.");
        }

        var created = await tokens.CreateAsync(user, request.Name ?? "api", cancellationToken);
        return TypedResults.Created($"/api/v1/me/tokens/{created.Token.Id}", new CreatedToken(created.Token.Id, created.Token.Name, created.Secret));
    }

    private static async Task<Results<NoContent, NotFound>> RevokeToken(Guid id, ClaimsPrincipal principal, UserManager<AppUser> users, PersonalAccessTokens tokens, CancellationToken cancellationToken) =>
        await UserOfAsync(principal, users) is { } user && await tokens.RevokeAsync(user, id, cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.NotFound();

    // An integration client's token names the client, not a user: it has no personal tokens (404), rather than
    // a user id that fails to parse.
    private static async Task<AppUser?> UserOfAsync(ClaimsPrincipal principal, UserManager<AppUser> users) =>
        Guid.TryParse(users.GetUserId(principal), out _) ? await users.GetUserAsync(principal) : null;

    private static TenantSummary Summary(TenantInfo t) => new(t.Slug, t.Name, t.TimeZone, t.Status.ToString());
}
