using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using ProDesk.Data.Identity;
using ProDesk.Web.Tenancy;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Tenancy;

/// <summary>Every hub invocation runs in the tenant it names, checked against the caller, per call.</summary>
public sealed class TenantHubFilterTests(ProDeskApp app) : PostgresTest(app)
{
    [Fact]
    public async Task A_hub_call_naming_a_tenant_the_caller_serves_runs_in_that_tenant()
    {
        var acme = await App.TenantAsync("acme");
        var seen = await InvokeAsync(Agent(acme.Id), nameof(ProbeHub.Watch), "acme", Guid.NewGuid());
        Assert.Equal(["acme"], seen);
    }

    [Theory]
    [InlineData("northwind")]
    [InlineData("no-such-tenant")]
    public async Task A_hub_call_naming_another_tenant_fails_as_not_found(string tenant)
    {
        var acme = await App.TenantAsync("acme");
        var error = await Assert.ThrowsAsync<HubException>(() => InvokeAsync(Agent(acme.Id), nameof(ProbeHub.Watch), tenant, Guid.NewGuid()));
        Assert.Equal("Not found.", error.Message);
    }

    [Fact]
    public async Task A_hub_call_naming_no_tenant_runs_in_the_callers_own_tenants()
    {
        var acme = await App.TenantAsync("acme");
        var merlion = await App.TenantAsync("merlion");
        Assert.Equal(["acme", "merlion"], await InvokeAsync(Agent(acme.Id, merlion.Id), nameof(ProbeHub.Ping)));
    }

    [Fact]
    public async Task The_scope_is_read_per_call_so_a_withdrawn_tenant_is_refused_on_the_next_call()
    {
        var acme = await App.TenantAsync("acme");
        var northwind = await App.TenantAsync("northwind");
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, Roles.Agent), new Claim(TenantAccess.TenantClaim, acme.Id.ToString()), new Claim(TenantAccess.TenantClaim, northwind.Id.ToString())], "test");
        var user = new ClaimsPrincipal(identity);
        Assert.Equal(["northwind"], await InvokeAsync(user, nameof(ProbeHub.Watch), "northwind", Guid.NewGuid()));

        identity.RemoveClaim(identity.FindAll(TenantAccess.TenantClaim).Single(c => c.Value == northwind.Id.ToString()));
        await Assert.ThrowsAsync<HubException>(() => InvokeAsync(user, nameof(ProbeHub.Watch), "northwind", Guid.NewGuid()));
    }

    private static ClaimsPrincipal Agent(params Guid[] tenants) =>
        new(new ClaimsIdentity(tenants.Select(t => new Claim(TenantAccess.TenantClaim, t.ToString())).Append(new Claim(ClaimTypes.Role, Roles.Agent)), "test"));

    private async Task<string[]> InvokeAsync(ClaimsPrincipal user, string method, params object?[] arguments)
    {
        var filter = App.Services.GetRequiredService<TenantHubFilter>();
        var hub = new ProbeHub(App.Services.GetRequiredService<ITenantContext>());
        var context = new HubInvocationContext(new FakeCallerContext(user), App.Services, hub, typeof(ProbeHub).GetMethod(method)!, arguments);
        var result = await filter.InvokeMethodAsync(context, c => ValueTask.FromResult<object?>(((ProbeHub)c.Hub).Seen()));
        return (string[])result!;
    }

    private sealed class ProbeHub(ITenantContext tenantContext) : Hub
    {
        public string[] Seen() => tenantContext.Scope.Tenants.Select(t => t.Slug).Order().ToArray();

        public string Watch(string tenant, Guid itemId) => $"{tenantContext.Current?.Slug}:{tenant}:{itemId}";

        public int Ping() => tenantContext.Scope.Tenants.Count;
    }

    private sealed class FakeCallerContext(ClaimsPrincipal user) : HubCallerContext
    {
        public override string ConnectionId => "test-connection";

        public override string? UserIdentifier => user.Identity?.Name;

        public override ClaimsPrincipal? User => user;

        public override IDictionary<object, object?> Items { get; } = new Dictionary<object, object?>();

        public override IFeatureCollection Features { get; } = new FeatureCollection();

        public override CancellationToken ConnectionAborted => CancellationToken.None;

        public override void Abort()
        {
        }
    }
}
