namespace ProDesk.Web.Tenancy;

/// <summary>
/// Decides the tenant scope of a request with strategies in priority order: the route value
/// <c>{tenant}</c>, the host name, then the caller's claims. A route that names a tenant the
/// caller may not see answers 404 before any endpoint runs.
/// </summary>
internal sealed class TenantResolutionMiddleware(RequestDelegate next)
{
    public const string RouteValue = "tenant";

    public async Task InvokeAsync(HttpContext context, ITenantStore store, TenantScopes scopes, TenantAccess access)
    {
        // Before anything else, public routes outside resolution (the chat demo, the web form, webhooks) included: a
        // client's own host serves that client only (probe round 19).
        var named = (context.GetRouteValue(RouteValue) as string)?.ToLowerInvariant();
        if (named is not null && await HostTenant.IsAnotherTenantsAsync(context, store, t => string.Equals(t.Slug, named, StringComparison.Ordinal)))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (context.GetEndpoint()?.Metadata.GetMetadata<NoTenantAttribute>() is not null)
        {
            await next(context);
            return;
        }

        var scope = await ResolveAsync(context, store, scopes, access);
        if (scope is null && context.User.Identity?.IsAuthenticated != true && RequiresSignIn(context.GetEndpoint()))
        {
            // Signed out, a known tenant's route answers 401 (sign in first): an unknown one must too, or the
            // difference would tell anyone which client companies the provider serves. No scope: nothing to read.
            using (TenantScopes.Enter(TenantScope.None))
            {
                await next(context);
            }

            return;
        }

        if (scope is null)
        {
            // No body here: the status-code pages middleware writes the problem details (or page).
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        using (TenantScopes.Enter(scope))
        {
            await next(context);
        }
    }

    private static bool RequiresSignIn(Endpoint? endpoint) =>
        endpoint is not null && endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is null
        && endpoint.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Count > 0;

    /// <summary>The scope, or null when the request names a tenant that is unknown or not the caller's.</summary>
    internal static async ValueTask<TenantScope?> ResolveAsync(HttpContext context, ITenantStore store, TenantScopes scopes, TenantAccess access)
    {
        var ct = context.RequestAborted;

        // 1. Route value: the request says which tenant, so anything else is a 404.
        if (context.GetRouteValue(RouteValue) is string slug)
        {
            // Slugs are lowercase; "ACME" names acme here as it does on the channel routes (ChannelTenant).
            var tenant = await store.FindBySlugAsync(slug.ToLowerInvariant(), ct);
            return tenant is not null && TenantAccess.MayActIn(context.User, tenant) ? scopes.ForTenant(tenant) : null;
        }

        // 2. Host name: a client's own support host (e.g. support.acme.test).
        if (await store.FindByHostAsync(context.Request.Host.Host, ct) is { } byHost)
        {
            return TenantAccess.MayActIn(context.User, byHost) ? scopes.ForTenant(byHost) : null;
        }

        // 3. The caller's claims: its one tenant, or the set it serves.
        return await access.ScopeOfAsync(context.User, ct);
    }
}

/// <summary>
/// A client's own support host (support.merlion.test) is that client's, white-labelled: its customers must not find
/// another client's pages there (its name, brand, survey or chat), which would also tell them whom else the provider
/// serves. So on a tenant's host a route naming another tenant answers 404, as an unknown one does. Hosts of no tenant
/// (localhost, the provider's own name) serve every tenant by its path.
/// </summary>
public static class HostTenant
{
    /// <summary>True when the request came on a tenant's host and <paramref name="named"/> says the route is another's.</summary>
    public static async ValueTask<bool> IsAnotherTenantsAsync(HttpContext context, ITenantStore store, Func<TenantInfo, bool> named) =>
        await store.FindByHostAsync(context.Request.Host.Host, context.RequestAborted) is { } byHost && !named(byHost);
}

/// <summary>
/// Marks an endpoint that runs outside any tenant and must not depend on the tenant registry
/// (health probes answer even when the database does not).
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class NoTenantAttribute : Attribute;
