using System.Security.Claims;
using ProDesk.Web.Cli;
using ProDesk.Web.Identity;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.TenantKeys;

/// <summary>
/// The operator's side of <see cref="RotateTenantKeys"/>: <c>clients rotate --tenant SLUG [--client CLIENT_ID]</c> and
/// <c>channels rotate --tenant SLUG --key inbound|widget</c> print only the new secret on stdout (as <c>token create</c>
/// does), so a script can hand it on without it passing through a log. Audited as done by the command line.
/// </summary>
public static class TenantKeysCommands
{
    // Who the audit log names: the command line runs as whoever may reach the database, and has no user of ours.
    private static readonly ClaimsPrincipal Operator = new(new ClaimsIdentity([new Claim(ProDeskClaims.Email, "command line")], "cli"));

    public static async Task<int> RunAsync(IServiceProvider services, CliVerb verb, string usage)
    {
        if (verb.Options.GetValueOrDefault("tenant") is not { Length: > 0 } slug)
        {
            return Fail($"{verb.Name}: --tenant SLUG is required; {usage}", 2);
        }

        var which = verb.Options.GetValueOrDefault("key");
        if (verb.Name == "channels rotate" && which is not (RotateTenantKeys.InboundKey or RotateTenantKeys.WidgetKey))
        {
            return Fail($"{verb.Name}: --key must be {RotateTenantKeys.InboundKey} or {RotateTenantKeys.WidgetKey}; {usage}", 2);
        }

        var tenant = await services.GetRequiredService<ITenantStore>().FindBySlugAsync(slug.ToLowerInvariant());
        if (tenant is null)
        {
            return Fail($"{verb.Name}: no tenant '{slug}'", 1);
        }

        using var scope = TenantScopes.Enter(services.GetRequiredService<TenantScopes>().ForTenant(tenant));
        var keys = services.GetRequiredService<RotateTenantKeys>();
        if (verb.Name == "channels rotate")
        {
            var key = which == RotateTenantKeys.InboundKey
                ? await keys.RotateInboundKeyAsync(tenant, Operator, CancellationToken.None)
                : await keys.RotateWidgetKeyAsync(tenant, Operator, CancellationToken.None);
            if (key is null)
            {
                return Fail($"{verb.Name}: tenant '{tenant.Slug}' has no channel settings", 1);
            }

            Console.Out.WriteLine(key);
            return 0;
        }

        // The tenant's one client unless told which: a second client must be named, not guessed.
        var clientId = verb.Options.GetValueOrDefault("client");
        if (clientId is null)
        {
            var clients = await keys.ClientsAsync(tenant, CancellationToken.None);
            if (clients is not [var only])
            {
                return Fail(clients.Count == 0
                    ? $"{verb.Name}: tenant '{tenant.Slug}' has no integration client"
                    : $"{verb.Name}: tenant '{tenant.Slug}' has {clients.Count} clients ({string.Join(", ", clients.Select(c => c.ClientId))}); name one with --client", clients.Count == 0 ? 1 : 2);
            }

            clientId = only.ClientId;
        }

        if (await keys.RotateClientSecretAsync(tenant, clientId, Operator, CancellationToken.None) is not { } rotated)
        {
            return Fail($"{verb.Name}: tenant '{tenant.Slug}' has no client '{clientId}'", 1);
        }

        Console.Out.WriteLine(rotated.ClientSecret);
        return 0;
    }

    private static int Fail(string reason, int code)
    {
        Console.Error.WriteLine($"prodesk: {reason}");
        return code;
    }
}
