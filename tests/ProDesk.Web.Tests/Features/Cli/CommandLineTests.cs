using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Cli;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Cli;

/// <summary>The verbs of CONTRACT.md, run as a separate process against the shared PostgreSQL database.</summary>
public sealed class CommandLineTests(ProDeskApp app) : PostgresTest(app)
{
    private Dictionary<string, string?> OnPostgres(string? connectionString = null) => new()
    {
        ["Database__Provider"] = "Postgres",
        ["ConnectionStrings__ProDesk"] = connectionString ?? App.Database.AppConnectionString,
    };

    [Fact]
    public async Task Tenants_list_prints_one_line_per_tenant_on_stdout()
    {
        var result = await CliProcess.RunAsync(OnPostgres(), "tenants", "list");
        Assert.True(result.ExitCode == 0, result.StandardError);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["acme", "merlion", "northwind", "sla-lab"], lines.Select(l => l.Split('\t')[0]));
        Assert.Contains("acme\tAcme Plomberie SAS\tEurope/Paris\tActive\tacme.prodesk.test,support.acme.test", lines);
    }

    [Fact]
    public async Task Migrate_on_an_up_to_date_database_succeeds()
    {
        var result = await CliProcess.RunAsync(OnPostgres(), "migrate");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public async Task Seed_creates_nothing_that_is_already_there()
    {
        var result = await CliProcess.RunAsync(OnPostgres(), "seed");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal("seeded: 0 tenant(s), 0 user(s), 0 contact(s) created", result.StandardOutput.Trim());
    }

    [Fact]
    public async Task Migrate_as_a_superuser_is_refused_with_a_one_line_reason()
    {
        var superuser = new Npgsql.NpgsqlConnectionStringBuilder(PostgresServer.AdminConnectionString) { Database = App.Database.Name }.ConnectionString;
        var result = await CliProcess.RunAsync(OnPostgres(superuser), "migrate");
        Assert.Equal(1, result.ExitCode);
        var reason = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("prodesk:", StringComparison.Ordinal));
        Assert.Contains("'postgres' is a superuser or has BYPASSRLS", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_verb_is_a_usage_error()
    {
        var result = await CliProcess.RunAsync(OnPostgres(), "frobnicate");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("prodesk: unknown command 'frobnicate'; usage:", result.StandardError.Trim(), StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
    }

    [Theory]
    [InlineData("unknown option --bogus", "tenants", "list", "--bogus", "x")]
    [InlineData("--name needs a value", "token", "create", "--email", "agent1@prodesk.test", "--name")]
    [InlineData("--email is given more than once", "token", "create", "--email", "agent1@prodesk.test", "--email", "agent2@prodesk.test")]
    [InlineData("--demo takes no value", "seed", "--demo", "yes")]
    public async Task Options_a_verb_does_not_take_are_a_usage_error_and_change_nothing(string problem, params string[] args)
    {
        var tokensBefore = await App.InTenantAsync("acme", db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.PersonalAccessTokens));
        var result = await CliProcess.RunAsync(OnPostgres(), args);
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(problem, line, StringComparison.Ordinal);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal(tokensBefore, await App.InTenantAsync("acme", db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.PersonalAccessTokens)));
    }

    [Fact]
    public async Task Help_prints_the_usage_and_starts_nothing()
    {
        var result = await CliProcess.RunAsync(OnPostgres(), "--help");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.StartsWith("usage: migrate", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_migration_lock_left_by_a_process_killed_while_migrating_sqlite_does_not_block_the_next_start()
    {
        var data = Directory.CreateTempSubdirectory("prodesk-cli-lock-").FullName;
        try
        {
            // What a kill -9 during the first migration leaves: EF Core's lock row, and nothing else done.
            await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data, "prodesk.db")}"))
            {
                await connection.OpenAsync();
                await using var command = connection.CreateCommand();
                command.CommandText = """
                    CREATE TABLE "__EFMigrationsLock" ("Id" INTEGER NOT NULL CONSTRAINT "PK___EFMigrationsLock" PRIMARY KEY, "Timestamp" TEXT NOT NULL);
                    INSERT INTO "__EFMigrationsLock" ("Id", "Timestamp") VALUES (1, '2026-11-27 10:39:04.123+00:00');
                    """;
                await command.ExecuteNonQueryAsync();
            }

            var result = await CliProcess.RunAsync(new Dictionary<string, string?> { ["Database__Provider"] = "Sqlite", ["ProDesk__DataDirectory"] = data }, "migrate");
            Assert.True(result.ExitCode == 0, result.StandardError);
            Assert.Contains("Removed the migration lock", result.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_data_directory_that_cannot_be_made_is_one_line_not_a_stack_trace()
    {
        var result = await CliProcess.RunAsync(new Dictionary<string, string?> { ["Database__Provider"] = "Sqlite", ["ProDesk__DataDirectory"] = "/dev/null/prodesk" }, "migrate");
        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("ProDesk__DataDirectory '/dev/null/prodesk' cannot be used", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_create_prints_only_a_working_personal_access_token()
    {
        var result = await CliProcess.RunAsync(OnPostgres(), "token", "create", "--email", "agent2@prodesk.test", "--name", "ci");
        Assert.True(result.ExitCode == 0, result.StandardError);
        var token = result.StandardOutput.TrimEnd('\n');
        Assert.Matches("^pdk_[A-Za-z0-9_-]{43}$", token);

        var client = App.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var me = await client.GetStringAsync("/api/v1/me");
        Assert.Contains("\"email\":\"agent2@prodesk.test\"", me, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_create_for_an_unknown_email_fails_with_a_reason()
    {
        var result = await CliProcess.RunAsync(OnPostgres(), "token", "create", "--email", "nobody@prodesk.test");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal("prodesk: token create: no user with email nobody@prodesk.test", result.StandardError.Trim());
    }

    [Fact]
    public async Task Token_create_is_audited_as_made_from_the_command_line_not_by_the_user()
    {
        var result = await CliProcess.RunAsync(OnPostgres(), "token", "create", "--email", "admin@acme.test", "--name", "ci");
        Assert.True(result.ExitCode == 0, result.StandardError);

        var audit = await App.InTenantAsync("acme", db => db.AuditEvents.AsNoTracking().SingleAsync(a => a.Action == ProDesk.Web.Audit.AuditLog.TokenCreated));
        Assert.StartsWith("cli:", audit.ActorName, StringComparison.Ordinal);
        Assert.Null(audit.ActorId);
        Assert.Equal("made from the command line for admin@acme.test", audit.Details);
    }

    [Fact]
    public async Task Token_create_for_a_disabled_user_fails_with_a_reason_and_makes_no_token()
    {
        var user = await App.UserAsync("admin@acme.test");
        await using (var scope = App.Services.CreateAsyncScope())
        {
            user = (await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<ProDesk.Data.Identity.AppUser>>().FindByIdAsync(user.Id.ToString()))!;
            var admin = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
                [new System.Security.Claims.Claim(ProDesk.Web.Identity.ProDeskClaims.Email, "admin@prodesk.test")], "test"));
            await scope.ServiceProvider.GetRequiredService<ProDesk.Web.Identity.Accounts.UserAccounts>().SetDisabledAsync(user, true, admin, CancellationToken.None);
        }

        var result = await CliProcess.RunAsync(OnPostgres(), "token", "create", "--email", "admin@acme.test");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal("prodesk: token create: the user admin@acme.test is disabled", result.StandardError.Trim());
        Assert.False(await App.InTenantAsync("acme", db => db.PersonalAccessTokens.AnyAsync(t => t.UserId == user.Id && t.RevokedAt == null)));
    }

    [Fact]
    public async Task Token_create_refuses_a_name_it_would_have_to_cut_or_change()
    {
        foreach (var name in new[] { new string('x', 101), "line1\nline2" })
        {
            var result = await CliProcess.RunAsync(OnPostgres(), "token", "create", "--email", "agent2@prodesk.test", "--name", name);
            Assert.Equal(2, result.ExitCode);
            Assert.Equal("", result.StandardOutput);
            Assert.Equal("prodesk: token create: --name must be one line of at most 100 characters", result.StandardError.Trim());
        }
    }

    [Fact]
    public async Task A_verb_that_has_not_landed_yet_says_so_and_fails()
    {
        var result = await CliProcess.RunAsync(OnPostgres(), "billing", "run", "--period", "2026-10");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Contains("billing run", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Oracle", "", "ProDesk cannot start: Database:Provider 'Oracle' is not one of Sqlite, Postgres")]
    [InlineData("Postgres", "", "ProDesk cannot start: ConnectionStrings:ProDesk is required when Database:Provider is Postgres")]
    [InlineData("Postgres", "Hots=nowhere", "ProDesk cannot start: ConnectionStrings:ProDesk is not a valid PostgreSQL connection string")]
    [InlineData("Postgres", "Host=127.0.0.1;Database=x;Multiplexing=true", "ProDesk cannot start: ConnectionStrings:ProDesk must not turn on Multiplexing")]
    public async Task Bad_database_configuration_stops_the_app_naming_the_setting(string provider, string connectionString, string expected)
    {
        var result = await CliProcess.RunAsync(new Dictionary<string, string?> { ["Database__Provider"] = provider, ["ConnectionStrings__ProDesk"] = connectionString }, "tenants", "list");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith(expected, result.StandardError.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_seed_file_stops_the_app_at_start_naming_the_file_and_field()
    {
        var seed = Repository.CopySeed();
        var tenantFile = Path.Combine(seed, "northwind", "tenant.json");
        File.WriteAllText(tenantFile, File.ReadAllText(tenantFile).Replace("America/New_York", "America/Gotham", StringComparison.Ordinal));
        var data = Directory.CreateTempSubdirectory("prodesk-data-").FullName;

        // The web host itself (no verb), in Development, which seeds on start.
        var result = await CliProcess.RunAsync(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ProDesk__SeedDirectory"] = seed,
            ["ProDesk__DataDirectory"] = data,
            ["ProDesk__RunJobs"] = "false",
        }, "--urls", "http://127.0.0.1:0");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ProDesk cannot start: northwind/tenant.json: timeZone: 'America/Gotham' is not a known IANA time zone", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_settings_file_stops_the_app_naming_the_file_and_line()
    {
        var contentRoot = Directory.CreateTempSubdirectory("prodesk-root-").FullName;
        File.WriteAllText(Path.Combine(contentRoot, "appsettings.json"), "{\n  \"Database\": { \"Provider\": \"Sqlite\" \n  \"ProDesk\": {}\n}");
        var result = await CliProcess.RunAsync(new Dictionary<string, string?>(), "tenants", "list", "--contentRoot", contentRoot);
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("ProDesk cannot start: Failed to load configuration from file", line, StringComparison.Ordinal);
        Assert.Contains("appsettings.json", line, StringComparison.Ordinal);
        Assert.Contains("LineNumber: 2", line, StringComparison.Ordinal);
    }

    /// <summary>The mail verbs read raw mail from the app's data directory, so they are run on the test host's.</summary>
    private Dictionary<string, string?> OnTheAppsData() => new(OnPostgres()) { ["ProDesk__DataDirectory"] = App.DataDirectory };

    /// <summary>Posts a mail that cannot be parsed (a multipart without a boundary) to acme; it is quarantined. Returns its id.</summary>
    private async Task<Guid> QuarantinedMailAsync(string subjectHeader)
    {
        var raw = $"From: Mallory <mallory@evil.example>\r\nTo: support@acme.test\r\nSubject: {subjectHeader}\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(raw));
        content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        content.Headers.Add(EmailInboundApi.KeyHeader, "demo-acme-inbound-key-0123456789");
        Assert.Equal(HttpStatusCode.Accepted, (await App.CreateClient().PostAsync("/channels/email/acme/inbound", content)).StatusCode);
        return await App.InTenantAsync("acme", db => db.InboundMails.OrderByDescending(m => m.ReceivedAt).Select(m => m.Id).FirstAsync());
    }

    [Fact]
    public async Task Mail_the_rules_dropped_is_listed_with_dropped_and_taken_in_once_by_mail_reprocess()
    {
        var raw = "From: Kim <kim@example.net>\r\nTo: support@acme.test\r\nMessage-ID: <away-cli@example.net>\r\nSubject: Away until May 5\r\n"
            + "Auto-Submitted: auto-replied\r\n\r\nI am travelling; the boiler in flat 2 leaks.\r\n";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(raw));
        content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        content.Headers.Add(EmailInboundApi.KeyHeader, "demo-acme-inbound-key-0123456789");
        Assert.Equal(HttpStatusCode.Accepted, (await App.CreateClient().PostAsync("/channels/email/acme/inbound", content)).StatusCode);
        var id = await App.InTenantAsync("acme", db => db.InboundMails.Select(m => m.Id).SingleAsync());

        Assert.Equal("", (await CliProcess.RunAsync(OnTheAppsData(), "mail", "quarantine", "--tenant", "acme")).StandardOutput);
        var listed = await CliProcess.RunAsync(OnTheAppsData(), "mail", "quarantine", "--tenant", "acme", "--dropped");
        Assert.True(listed.ExitCode == 0, listed.StandardError);
        var fields = Assert.Single(listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Split('\t');
        Assert.Equal((id.ToString(), "kim@example.net", "Away until May 5"), (fields[0], fields[3], fields[4]));

        var takenIn = await CliProcess.RunAsync(OnTheAppsData(), "mail", "reprocess", "--tenant", "acme", "--id", id.ToString());
        Assert.True(takenIn.ExitCode == 0, takenIn.StandardError);
        var itemId = await App.InTenantAsync("acme", db => db.WorkItems.Select(w => w.Id).SingleAsync());
        Assert.StartsWith($"created\t{itemId}\t", takenIn.StandardOutput, StringComparison.Ordinal);
        Assert.False(await App.InTenantAsync("acme", db => db.OutboundMessages.AnyAsync()));

        var again = await CliProcess.RunAsync(OnTheAppsData(), "mail", "reprocess", "--tenant", "acme", "--id", id.ToString());
        Assert.True(again.ExitCode == 0, again.StandardError);
        Assert.StartsWith($"duplicate\t{itemId}\t", again.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    [Fact]
    public void Text_the_command_line_prints_has_its_control_characters_escaped()
    {
        Assert.Equal(@"Invoice\u0009FAKE\u001B[31mRED\u000A\u009B2J\u2028 a\\b", CliText.Field("Invoice\tFAKE\u001b[31mRED\n\u009b2J\u2028 a\\b"));
        Assert.Equal("Plain subject, café", CliText.Field("Plain subject, café"));
    }

    [Fact]
    public async Task Mail_quarantine_prints_each_mail_on_one_line_of_six_fields_whatever_its_sender_wrote_in_the_subject()
    {
        // RFC 2047 lets a sender put a tab and ESC sequences in the subject: "Invoice<TAB>FAKE<TAB>ceo@acme.test<ESC>[31mRED".
        var hostile = "Invoice\tFAKE\tceo@acme.test\u001b[31mRED\u001b[0m";
        var id = await QuarantinedMailAsync($"=?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(hostile))}?=");

        var result = await CliProcess.RunAsync(OnTheAppsData(), "mail", "quarantine", "--tenant", "ACME");

        Assert.True(result.ExitCode == 0, result.StandardError);
        var line = Assert.Single(result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain(line, c => char.IsControl(c) && c != '\t');
        var fields = line.Split('\t');
        Assert.Equal(6, fields.Length);
        Assert.Equal((id.ToString(), "mallory@evil.example"), (fields[0], fields[3]));
        Assert.StartsWith("Invoice", fields[4], StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mail_that_stays_quarantined_says_why_on_stderr_and_the_operator_can_discard_it()
    {
        var id = await QuarantinedMailAsync("Broken attachment");

        var again = await CliProcess.RunAsync(OnTheAppsData(), "mail", "reprocess", "--tenant", "acme", "--id", id.ToString());
        Assert.Equal(1, again.ExitCode);
        var reason = Assert.Single(again.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("prodesk:", StringComparison.Ordinal));
        Assert.Equal($"prodesk: mail reprocess: mail {id} is still quarantined: a multipart without a boundary parameter", reason);

        var discarded = await CliProcess.RunAsync(OnTheAppsData(), "mail", "discard", "--tenant", "acme", "--id", id.ToString());
        Assert.True(discarded.ExitCode == 0, discarded.StandardError);
        Assert.Equal($"discarded\t{id}", discarded.StandardOutput.Trim());
        Assert.Equal("", (await CliProcess.RunAsync(OnTheAppsData(), "mail", "quarantine", "--tenant", "acme")).StandardOutput);
        var audit = await App.InTenantAsync("acme", db => db.AuditEvents.AsNoTracking().SingleAsync(a => a.Action == DiscardQuarantinedMail.Action));
        Assert.StartsWith("cli:", audit.ActorName, StringComparison.Ordinal);
        Assert.Equal(id.ToString(), audit.Target);

        var twice = await CliProcess.RunAsync(OnTheAppsData(), "mail", "discard", "--tenant", "acme", "--id", id.ToString());
        Assert.Equal((1, $"prodesk: mail discard: no quarantined mail {id} in acme"), (twice.ExitCode, twice.StandardError.Trim()));
    }
}
