using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Cli;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// The command-line side of quarantined mail: <c>mail quarantine --tenant SLUG</c> lists it (id, when,
/// size, sender, subject, reason), <c>mail reprocess --tenant SLUG --id ID [--allow-oversize]</c>
/// runs one through ingestion again and prints what became of it.
/// </summary>
public static class QuarantineCommands
{
    public static async Task<int> RunAsync(IServiceProvider services, CliVerb verb, string usage)
    {
        if (verb.Options.GetValueOrDefault("tenant") is not { Length: > 0 } slug)
        {
            return Fail($"{verb.Name}: --tenant SLUG is required; {usage}", 2);
        }

        var tenant = await services.GetRequiredService<ITenantStore>().FindBySlugAsync(slug);
        if (tenant is null)
        {
            return Fail($"{verb.Name}: no tenant '{slug}'", 1);
        }

        using var scope = TenantScopes.Enter(services.GetRequiredService<TenantScopes>().ForTenant(tenant));
        if (verb.Name == "mail quarantine")
        {
            var mails = await services.GetRequiredService<ProDeskDbContext>().InboundMails.AsNoTracking()
                .Where(m => m.State == InboundMailState.Quarantined).OrderBy(m => m.ReceivedAt).ToListAsync();
            foreach (var mail in mails)
            {
                Console.Out.WriteLine($"{mail.Id}\t{mail.ReceivedAt:O}\t{mail.Size}\t{mail.FromAddress}\t{mail.Subject}\t{mail.Reason}");
            }

            return 0;
        }

        if (!Guid.TryParse(verb.Options.GetValueOrDefault("id"), out var id))
        {
            return Fail($"{verb.Name}: --id ID (a quarantined mail's id) is required; {usage}", 2);
        }

        var result = await services.GetRequiredService<IngestEmail>().ReprocessAsync(id, verb.Options.ContainsKey("allow-oversize"), CancellationToken.None);
        if (result is null)
        {
            return Fail($"{verb.Name}: no quarantined mail {id} in {slug}", 1);
        }

        Console.Out.WriteLine($"{result.Outcome.ToString().ToLowerInvariant()}\t{result.WorkItemId}\t{result.Reason}");
        return result.Outcome == IngestEmail.Outcome.Quarantined ? 1 : 0;
    }

    private static int Fail(string reason, int code)
    {
        Console.Error.WriteLine($"prodesk: {reason}");
        return code;
    }
}
