using Microsoft.AspNetCore.SignalR;

namespace ProDesk.Web.Tenancy;

/// <summary>
/// Resolves the tenant scope for every hub invocation, never from a connection-time cache: a hub
/// method with a <c>tenant</c> parameter (a slug) runs in that tenant if the caller may act in it
/// and fails with "Not found." otherwise; other methods run in the caller's own scope.
/// </summary>
internal sealed class TenantHubFilter(ITenantStore store, TenantScopes scopes, TenantAccess access) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var user = invocationContext.Context.User ?? new System.Security.Claims.ClaimsPrincipal();
        var parameters = invocationContext.HubMethod.GetParameters();
        var index = Array.FindIndex(parameters, p => p.Name == TenantResolutionMiddleware.RouteValue);

        TenantScope scope;
        if (index >= 0)
        {
            var tenant = invocationContext.HubMethodArguments[index] is string slug ? await store.FindBySlugAsync(slug.ToLowerInvariant()) : null;
            if (tenant is null || !TenantAccess.MayActIn(user, tenant))
            {
                throw new HubException("Not found.");
            }

            scope = scopes.ForTenant(tenant);
        }
        else
        {
            scope = await access.ScopeOfAsync(user);
        }

        using (TenantScopes.Enter(scope))
        {
            return await next(invocationContext);
        }
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        using (TenantScopes.Enter(await access.ScopeOfAsync(context.Context.User ?? new System.Security.Claims.ClaimsPrincipal())))
        {
            await next(context);
        }
    }
}
