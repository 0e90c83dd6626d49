using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

using ProDesk.Data.Identity;
using ProDesk.Web.Tenancy;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Tenancy;

/// <summary>Which tenant a request is for: route value, then host name, then the caller's claims.</summary>
public sealed class TenantResolutionTests(ProDeskApp app) : PostgresTest(app)
{
    [Theory]
    [InlineData("/t/acme")]
    [InlineData("/t/ACME")] // slugs are lowercase; a slug typed in capitals names the same tenant, on every route
    public async Task The_route_value_picks_the_tenant(string path)
    {
        var html = await App.CreateClient().GetStringAsync(path);
        Assert.Contains("Acme Plomberie SAS support", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/t/no-such-tenant")]
    [InlineData("/t/acme%0A")]
    [InlineData("/t/merl\u0131on")] // a dotless i is not an i, whatever case-folding would say
    public async Task An_unknown_tenant_answers_404_problem_details_without_a_hint(string path)
    {
        var client = App.CreateClient();
        client.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"status\":404", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Plomberie", body, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/api/v1/tenants/{0}/work-items")]
    [InlineData("/api/v1/tenants/{0}/work-items/01a2184d-c437-74b5-841f-744fe3694a20")]
    public async Task Signed_out_a_known_and_an_unknown_tenants_api_route_answer_alike(string path)
    {
        // Otherwise 401 for acme and 404 for a made-up slug would list the provider's clients to anyone.
        var client = App.CreateClient();
        var known = await client.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, "acme"));
        var unknown = await client.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, "no-such-client"));
        Assert.Equal(HttpStatusCode.Unauthorized, known.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
    }

    [Theory]
    [InlineData("support.acme.test")]
    [InlineData("SUPPORT.Acme.Test")]
    [InlineData("acme.prodesk.test")]
    public async Task A_clients_own_host_name_picks_the_tenant(string host)
    {
        var client = App.CreateClient();
        client.DefaultRequestHeaders.Host = host;
        var html = await client.GetStringAsync("/");
        Assert.Contains("Acme Plomberie SAS support", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"product-name\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_host_shows_the_product_page()
    {
        var client = App.CreateClient();
        client.DefaultRequestHeaders.Host = "elsewhere.example";
        var html = await client.GetStringAsync("/");
        Assert.Contains("data-testid=\"product-name\">ProDesk<", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/t/acme", "/t/merlion")]
    [InlineData("/channels/chat/acme/demo?key=k", "/channels/chat/merlion/demo?key=k")]
    public async Task A_clients_own_host_answers_404_for_another_clients_public_page(string others, string own)
    {
        // Merlion's customers on Merlion's white-labelled host must not see Acme's brand there (probe round 19).
        var client = App.CreateClient();
        client.DefaultRequestHeaders.Host = "support.merlion.test";
        var response = await client.GetAsync(others);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        // The answer names the path asked for (problem details' instance), never the other client's brand.
        Assert.DoesNotContain("Plomberie", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(own)).StatusCode);
        // A provider-wide host serves every client by its path.
        Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().GetAsync(others)).StatusCode);
    }

    [Fact]
    public async Task A_clients_own_host_answers_404_for_another_clients_api_routes_even_to_staff_who_serve_both()
    {
        var agent = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        agent.DefaultRequestHeaders.Host = "support.merlion.test";
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/api/v1/tenants/acme/work-items")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/api/v1/tenants/merlion/work-items")).StatusCode);
    }

    [Fact]
    public async Task A_client_user_resolves_to_the_one_tenant_in_its_claim()
    {
        var acme = await App.TenantAsync("acme");
        var scope = await ResolveAsync(User(Roles.ClientAdmin, acme.Id));
        Assert.Equal("acme", scope?.Current?.Slug);
    }

    [Fact]
    public async Task An_agent_resolves_to_exactly_the_tenants_it_serves()
    {
        var acme = await App.TenantAsync("acme");
        var northwind = await App.TenantAsync("northwind");
        var scope = await ResolveAsync(User(Roles.Agent, acme.Id, northwind.Id));
        Assert.NotNull(scope);
        Assert.Null(scope.Current);
        Assert.Equal(new[] { "acme", "northwind" }, scope.Tenants.Select(t => t.Slug).Order());
    }

    [Fact]
    public async Task A_route_naming_a_tenant_outside_the_callers_claims_is_not_found()
    {
        var acme = await App.TenantAsync("acme");
        Assert.Null(await ResolveAsync(User(Roles.ClientAdmin, acme.Id), routeTenant: "northwind"));
        Assert.Null(await ResolveAsync(User(Roles.Agent, acme.Id), routeTenant: "merlion"));
        Assert.Equal("acme", (await ResolveAsync(User(Roles.ClientAdmin, acme.Id), routeTenant: "acme"))?.Current?.Slug);
    }

    [Fact]
    public async Task Provider_admins_and_supervisors_act_in_every_tenant()
    {
        foreach (var role in new[] { Roles.ProviderAdmin, Roles.Supervisor })
        {
            var scope = await ResolveAsync(User(role));
            Assert.Equal(new[] { "acme", "merlion", "northwind", "sla-lab" }, scope!.Tenants.Select(t => t.Slug).Order());
            Assert.Equal("merlion", (await ResolveAsync(User(role), routeTenant: "merlion"))?.Current?.Slug);
        }
    }

    [Fact]
    public async Task An_anonymous_caller_without_route_or_host_has_no_tenant()
    {
        var scope = await ResolveAsync(new ClaimsPrincipal(new ClaimsIdentity()));
        Assert.Empty(scope!.Tenants);
    }

    private static ClaimsPrincipal User(string role, params Guid[] tenants) =>
        new(new ClaimsIdentity(
            tenants.Select(t => new Claim(TenantAccess.TenantClaim, t.ToString())).Append(new Claim(ClaimTypes.Role, role)),
            authenticationType: "test"));

    private async Task<TenantScope?> ResolveAsync(ClaimsPrincipal user, string? routeTenant = null)
    {
        var context = new DefaultHttpContext { User = user, RequestServices = App.Services };
        context.Request.Host = new HostString("desk.prodesk.test");
        if (routeTenant is not null)
        {
            context.Request.RouteValues[TenantResolutionMiddleware.RouteValue] = routeTenant;
        }

        return await TenantResolutionMiddleware.ResolveAsync(
            context,
            App.Services.GetRequiredService<ITenantStore>(),
            App.Services.GetRequiredService<TenantScopes>(),
            App.Services.GetRequiredService<TenantAccess>());
    }
}
