using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Channels;
using ProDesk.Web.Cli;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Email;

/// <summary>
/// The command-line side of quarantined mail: <c>mail quarantine --tenant SLUG</c> lists it (id, when,
/// size, sender, subject, reason; the mail's own words escaped by <see cref="CliText"/>),
/// <c>mail quarantine --tenant SLUG --dropped</c> lists the mail the hygiene rules dropped instead,
/// <c>mail reprocess --tenant SLUG --id ID [--allow-oversize]</c> runs one through ingestion again (or takes a dropped one
/// in, unacknowledged) and prints what became of it, <c>mail discard --tenant SLUG --id ID</c> takes one off the list for
/// good (audited as the operator).
/// </summary>
public static class QuarantineCommands
{
    public static async Task<int> RunAsync(IServiceProvider services, CliVerb verb, string usage)
    {
        if (verb.Options.GetValueOrDefault("tenant") is not { Length: > 0 } slug)
        {
            return Fail($"{verb.Name}: --tenant SLUG is required; {usage}", 2);
        }

        // As the web host names tenants: a slug in capitals is the same tenant.
        var tenant = await services.GetRequiredService<ITenantStore>().FindBySlugAsync(slug.ToLowerInvariant());
        if (tenant is null)
        {
            return Fail($"{verb.Name}: no tenant '{slug}'", 1);
        }

        using var scope = TenantScopes.Enter(services.GetRequiredService<TenantScopes>().ForTenant(tenant));
        if (verb.Name == "mail quarantine")
        {
            var state = verb.Options.ContainsKey("dropped") ? InboundMailState.Dropped : InboundMailState.Quarantined;
            var mails = await services.GetRequiredService<ProDeskDbContext>().InboundMails.AsNoTracking()
                .Where(m => m.State == state).OrderBy(m => m.ReceivedAt).ToListAsync();
            foreach (var mail in mails)
            {
                // Anyone who can mail the desk writes the subject and the sender: printed raw, a tab added columns and ESC drove the terminal.
                Console.Out.WriteLine($"{mail.Id}\t{mail.ReceivedAt:O}\t{mail.Size}\t{CliText.Field(mail.FromAddress)}\t{CliText.Field(mail.Subject)}\t{CliText.Field(mail.Reason)}");
            }

            return 0;
        }

        if (!Guid.TryParse(verb.Options.GetValueOrDefault("id"), out var id))
        {
            return Fail($"{verb.Name}: --id ID (a quarantined{(verb.Name == "mail reprocess" ? " or dropped" : "")} mail's id) is required; {usage}", 2);
        }

        if (verb.Name == "mail discard")
        {
            var actor = CliText.Operator;
            if (!await services.GetRequiredService<DiscardQuarantinedMail>().HandleAsync(id, null, actor, CancellationToken.None))
            {
                return Fail($"{verb.Name}: no quarantined mail {id} in {slug}", 1);
            }

            Console.Out.WriteLine($"discarded\t{id}");
            return 0;
        }

        var result = await services.GetRequiredService<IngestEmail>().ReprocessAsync(id, verb.Options.ContainsKey("allow-oversize"), CancellationToken.None);
        if (result is null)
        {
            return await RawMailRetention.WhyGoneAsync(services.GetRequiredService<ProDeskDbContext>(), id, CancellationToken.None) is { } gone
                ? Fail($"{verb.Name}: mail {id} cannot be reprocessed: {gone}", 1)
                : Fail($"{verb.Name}: no mail {id} in {slug}", 1);
        }

        if (result.Outcome == IngestEmail.Outcome.Refused)
        {
            return Fail($"{verb.Name}: mail {id} cannot be taken in: {CliText.Field(result.Reason)}", 1);
        }

        Console.Out.WriteLine($"{result.Outcome.ToString().ToLowerInvariant()}\t{result.WorkItemId}\t{CliText.Field(result.Reason)}");
        // CONTRACT.md: a failure says why on stderr, in one line, as every other verb does.
        return result.Outcome == IngestEmail.Outcome.Quarantined
            ? Fail($"{verb.Name}: mail {id} is still quarantined: {CliText.Field(result.Reason)}", 1)
            : 0;
    }

    private static int Fail(string reason, int code)
    {
        Console.Error.WriteLine($"prodesk: {reason}");
        return code;
    }
}
