using Microsoft.AspNetCore.Identity;
using ProDesk.Data.Identity;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Data;
using ProDesk.Web.Identity;
using ProDesk.Web.Identity.Accounts;
using ProDesk.Web.Data.Seeding;
using ProDesk.Web.Hosting;
using ProDesk.Web.Tenancy;
using ProDesk.Web.TenantKeys;

namespace ProDesk.Web.Cli;

/// <summary>
/// Runs one verb with the app's own wiring and returns the exit code: 0 on success; otherwise a
/// one-line reason on stderr (1 for a failed command, 2 for a usage error). Output meant for
/// scripts goes to stdout; logs go to stderr.
/// </summary>
public static class CliRunner
{
    private const string Usage =
        "usage: migrate | seed [--demo] | tenants list | token create --email EMAIL [--name NAME] | billing run --period YYYY-MM"
        + " | mail quarantine --tenant SLUG [--dropped] | mail reprocess --tenant SLUG --id ID [--allow-oversize] | mail discard --tenant SLUG --id ID"
        + " | clients rotate --tenant SLUG [--client CLIENT_ID] | channels rotate --tenant SLUG --key inbound|widget";

    /// <summary>Each verb's options: true for one that takes a value, false for a flag.</summary>
    private static readonly Dictionary<string, Dictionary<string, bool>> OptionsOf = new(StringComparer.Ordinal)
    {
        ["migrate"] = [],
        ["seed"] = new() { ["demo"] = false },
        ["tenants list"] = [],
        ["token create"] = new() { ["email"] = true, ["name"] = true },
        ["billing run"] = new() { ["period"] = true },
        ["mail quarantine"] = new() { ["tenant"] = true, ["dropped"] = false },
        ["mail reprocess"] = new() { ["tenant"] = true, ["id"] = true, ["allow-oversize"] = false },
        ["clients rotate"] = new() { ["tenant"] = true, ["client"] = true },
        ["channels rotate"] = new() { ["tenant"] = true, ["key"] = true },
        ["mail discard"] = new() { ["tenant"] = true, ["id"] = true },
    };

    public static async Task<int> RunAsync(WebApplication app, CliVerb verb)
    {
        if (verb.Name == CliVerb.Help)
        {
            Console.Out.WriteLine(Usage);
            return 0;
        }

        // An unknown verb is refused by the switch's default below.
        if (OptionsOf.TryGetValue(verb.Name, out var allowed) && OptionProblem(verb, allowed) is { } problem)
        {
            return Fail($"{verb.Name}: {problem}; {Usage}", 2);
        }

        try
        {
            await using var scope = app.Services.CreateAsyncScope();
            var services = scope.ServiceProvider;
            switch (verb.Name)
            {
                case "migrate":
                    await services.GetRequiredService<DatabaseMigrator>().EnsureSafeRoleAsync();
                    await using (await PreparationLock.HoldAsync(services.GetRequiredService<ProDeskPaths>().DataDirectory, services.GetRequiredService<TimeProvider>()))
                    {
                        await services.GetRequiredService<DatabaseMigrator>().MigrateAsync();
                    }

                    return 0;

                case "seed":
                    await services.GetRequiredService<DatabaseMigrator>().EnsureSafeRoleAsync();
                    await using (await PreparationLock.HoldAsync(services.GetRequiredService<ProDeskPaths>().DataDirectory, services.GetRequiredService<TimeProvider>()))
                    {
                        await services.GetRequiredService<DatabaseMigrator>().MigrateAsync();
                        var result = await services.GetRequiredService<DemoSeeder>().SeedAsync(demoHistory: verb.Options.ContainsKey("demo"));
                        Console.Out.WriteLine($"seeded: {result.TenantsCreated} tenant(s), {result.UsersCreated} user(s), {result.ContactsCreated} contact(s) created");
                    }

                    return 0;

                case "tenants list":
                    // As the web host starts: in Development (a fresh clone) that migrates and seeds first.
                    await app.PrepareDatabaseAsync();
                    foreach (var tenant in await services.GetRequiredService<ITenantStore>().ListAsync())
                    {
                        Console.Out.WriteLine($"{tenant.Slug}\t{CliText.Field(tenant.Name)}\t{tenant.TimeZone}\t{tenant.Status}\t{string.Join(',', tenant.Hosts)}");
                    }

                    return 0;

                case "token create":
                    return await CreateTokenAsync(app, services, verb);

                case "mail quarantine":
                case "mail reprocess":
                case "mail discard":
                    await app.PrepareDatabaseAsync();
                    return await QuarantineCommands.RunAsync(services, verb, Usage);

                case "clients rotate":
                case "channels rotate":
                    await app.PrepareDatabaseAsync();
                    return await TenantKeysCommands.RunAsync(services, verb, Usage);

                case "billing run":
                    return Fail($"{verb.Name}: not available in this version yet", 1);

                default:
                    return Fail($"unknown command '{verb.Name}'; {Usage}", 2);
            }
        }
        catch (StartupException e)
        {
            return Fail(e.Message, 1);
        }
        catch (Exception e) when (e is Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            return Fail($"{verb.Name} failed: {e.GetBaseException().Message.ReplaceLineEndings(" ")}", 1);
        }
    }

    /// <summary>Prints only the new token on stdout, so that scripts can capture it.</summary>
    private static async Task<int> CreateTokenAsync(WebApplication app, IServiceProvider services, CliVerb verb)
    {
        if (verb.Options.GetValueOrDefault("email") is not { Length: > 0 } email)
        {
            return Fail($"token create: --email EMAIL is required; {Usage}", 2);
        }

        // As the API refuses it: a name that would be cut or changed is said, not stored otherwise.
        if (verb.Options.GetValueOrDefault("name") is { } name && (name.Length > PersonalAccessTokens.MaxNameLength || name.Any(char.IsControl)))
        {
            return Fail($"token create: --name must be one line of at most {PersonalAccessTokens.MaxNameLength} characters", 2);
        }

        // As the web host starts: on a fresh clone in Development, the demo users exist before the app first ran.
        await app.PrepareDatabaseAsync();
        var user = await services.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email);
        if (user is null)
        {
            return Fail($"token create: no user with email {email}", 1);
        }

        // A disabled account's tokens were ended with it, and a new one would sign it in again.
        if (UserAccounts.IsDisabled(user))
        {
            return Fail($"token create: the user {email} is disabled", 1);
        }

        // Audited as the operator who ran the verb, not as the user making a token for themselves.
        var created = await services.GetRequiredService<PersonalAccessTokens>().CreateAsync(
            user, verb.Options.GetValueOrDefault("name") ?? "cli", null, CliText.Operator, $"made from the command line for {user.Email}");
        Console.Out.WriteLine(created.Secret);
        return 0;
    }

    private static string? OptionProblem(CliVerb verb, Dictionary<string, bool> allowed)
    {
        foreach (var (name, value) in verb.Options)
        {
            if (!allowed.TryGetValue(name, out var takesValue))
            {
                return $"unknown option --{name}";
            }

            if (takesValue && string.IsNullOrWhiteSpace(value))
            {
                return $"--{name} needs a value";
            }

            if (!takesValue && value is not null)
            {
                return $"--{name} takes no value (got '{value}')";
            }
        }

        return verb.Repeated is [var repeated, ..] ? $"--{repeated} is given more than once" : null;
    }

    private static int Fail(string reason, int code)
    {
        Console.Error.WriteLine($"prodesk: {reason}");
        return code;
    }
}
