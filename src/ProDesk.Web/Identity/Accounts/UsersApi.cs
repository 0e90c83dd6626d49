using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Identity.Accounts;

/// <summary>
/// Invitations and disabling over the API: a provider admin for staff (and any user's disabling), a client admin, or a
/// provider admin, for the users of one tenant. Another tenant's user is 404, as every route answers.
/// </summary>
public static class UsersApi
{
    /// <summary>One required field: a misspelt one leaves it null, which is refused naming it, so unknown ones need no refusal here.</summary>
    public sealed record SetDisabledRequest(bool? Disabled);

    /// <summary>Client admins manage the users of their own tenant; provider admins may too.</summary>
    public const string TenantUsersPolicy = "tenant-users";

    public static void AddUserAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<UserAccounts>();
        builder.Services.AddSingleton<AccountMail>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AccountMail>());
        builder.Services.Configure<DataProtectionTokenProviderOptions>(o => o.TokenLifespan = UserAccounts.LinkLifetime(builder.Configuration));
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(TenantUsersPolicy, p => p.RequireRole(Roles.ProviderAdmin, Roles.ClientAdmin));
    }

    public static void MapUsersApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/v1/admin/users").RequireAuthorization(CurrentSession.ProviderAdminPolicy).WithTags("Users");
        admin.MapPost("", InviteStaffAsync).WithName("InviteStaff")
            .WithSummary("Creates a member of provider staff (email, name, role: ProviderAdmin, Supervisor or Agent) and mails them a link to set their password.");
        admin.MapGet("/{id:guid}", GetAsync).WithName("GetUser").WithSummary("Any user: roles, tenant, whether disabled, whether still invited (no password yet).");
        admin.MapPut("/{id:guid}/disabled", (Guid id, SetDisabledRequest request, UserAccounts accounts, ProDeskDbContext db, ClaimsPrincipal actor, CancellationToken ct) =>
                SetDisabledAsync(id, null, request, accounts, db, actor, ct))
            .WithName("SetUserDisabled").WithSummary("Disables (true) or enables (false) any user; disabling ends their sessions and tokens at once.");
        admin.MapPost("/{id:guid}/invitation", (Guid id, UserAccounts accounts, ProDeskDbContext db, ClaimsPrincipal actor, CancellationToken ct) =>
                ResendAsync(id, null, accounts, db, actor, ct))
            .WithName("ResendInvitation").WithSummary("Mails any enabled user a new link to set their password.");

        var tenant = app.MapGroup("/api/v1/tenants/{tenant}/users")
            .RequireAuthorization(CurrentSession.Policy).RequireAuthorization(TenantUsersPolicy).WithTags("Users");
        tenant.MapGet("", ListTenantUsersAsync).WithName("ListTenantUsers").WithSummary("The client company's users (ClientAdmin, ClientViewer).");
        tenant.MapPost("", InviteTenantUserAsync).WithName("InviteTenantUser")
            .WithSummary("Creates a user of the client company (email, name, role: ClientAdmin or ClientViewer) and mails them a link to set their password.");
        tenant.MapPut("/{id:guid}/disabled", (Guid id, SetDisabledRequest request, ITenantContext context, UserAccounts accounts, ProDeskDbContext db, ClaimsPrincipal actor, CancellationToken ct) =>
                SetDisabledAsync(id, context.Current!.Id, request, accounts, db, actor, ct))
            .WithName("SetTenantUserDisabled").WithSummary("Disables (true) or enables (false) one of the client company's users.");
        tenant.MapPost("/{id:guid}/invitation", (Guid id, ITenantContext context, UserAccounts accounts, ProDeskDbContext db, ClaimsPrincipal actor, CancellationToken ct) =>
                ResendAsync(id, context.Current!.Id, accounts, db, actor, ct))
            .WithName("ResendTenantUserInvitation").WithSummary("Mails one of the client company's enabled users a new link to set their password.");
    }

    private static async Task<Results<Created<UserAccounts.UserView>, ValidationProblem>> InviteStaffAsync(
        UserAccounts.InviteRequest request, UserAccounts accounts, ITenantStore tenants, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var outcome = await accounts.InviteAsync(request, null, Roles.Staff, actor, cancellationToken);
        if (outcome.Errors is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        // Serves no client yet: PUT /api/v1/admin/staff/{id}/tenants says which.
        return TypedResults.Created($"/api/v1/admin/users/{outcome.User!.Id}", await accounts.ViewAsync(outcome.User, tenants, cancellationToken));
    }

    private static async Task<Results<Created<UserAccounts.UserView>, ValidationProblem>> InviteTenantUserAsync(
        UserAccounts.InviteRequest request, ITenantContext context, UserAccounts accounts, ITenantStore tenants, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        var tenant = context.Current!;
        var outcome = await accounts.InviteAsync(request, tenant, Roles.Client, actor, cancellationToken);
        if (outcome.Errors is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return TypedResults.Created($"/api/v1/tenants/{tenant.Slug}/users/{outcome.User!.Id}", await accounts.ViewAsync(outcome.User, tenants, cancellationToken));
    }

    private static async Task<Results<Ok<UserAccounts.UserView>, NotFound>> GetAsync(
        Guid id, UserAccounts accounts, ProDeskDbContext db, ITenantStore tenants, CancellationToken cancellationToken) =>
        await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken) is { } user
            ? TypedResults.Ok(await accounts.ViewAsync(user, tenants, cancellationToken))
            : TypedResults.NotFound();

    private static async Task<Ok<List<UserAccounts.UserView>>> ListTenantUsersAsync(
        ITenantContext context, UserAccounts accounts, ITenantStore tenants, CancellationToken cancellationToken) =>
        TypedResults.Ok(await accounts.ListAsync(context.Current!.Id, tenants, cancellationToken));

    private static async Task<Results<NoContent, NotFound, ValidationProblem>> SetDisabledAsync(
        Guid id, Guid? tenantId, SetDisabledRequest request, UserAccounts accounts, ProDeskDbContext db, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        if (await FindAsync(db, id, tenantId, cancellationToken) is not { } user)
        {
            return TypedResults.NotFound();
        }

        if (request.Disabled is not { } disabled)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["disabled"] = ["is required: true disables the user, false enables them"] });
        }

        if (disabled && user.Id.ToString() == actor.FindFirstValue(ProDeskClaims.Subject))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["disabled"] = ["an admin cannot disable themselves"] });
        }

        await accounts.SetDisabledAsync(user, disabled, actor, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted, NotFound, ValidationProblem>> ResendAsync(
        Guid id, Guid? tenantId, UserAccounts accounts, ProDeskDbContext db, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        if (await FindAsync(db, id, tenantId, cancellationToken) is not { } user)
        {
            return TypedResults.NotFound();
        }

        return await accounts.ResendInvitationAsync(user, actor, cancellationToken)
            ? TypedResults.Accepted((string?)null)
            : TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["the user is disabled: enable them first"] });
    }

    /// <summary>Any user for the provider admin's routes (<paramref name="tenantId"/> null); else one of that tenant's own users.</summary>
    private static Task<AppUser?> FindAsync(ProDeskDbContext db, Guid id, Guid? tenantId, CancellationToken cancellationToken) =>
        tenantId is { } tenant
            ? db.Users.SingleOrDefaultAsync(u => u.Id == id && u.TenantId == tenant, cancellationToken)
            : db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
}
