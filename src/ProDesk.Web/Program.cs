using Microsoft.Extensions.Options;
using ProDesk.Web.CannedReplies;
using ProDesk.Web.Channels;
using ProDesk.Web.Cli;
using ProDesk.Web.Contacts;
using ProDesk.Web.Csat;
using ProDesk.Web.Data;
using ProDesk.Web.Health;
using ProDesk.Web.Metrics;
using ProDesk.Web.Identity;
using ProDesk.Web.Identity.Accounts;
using ProDesk.Web.Hosting;
using ProDesk.Web.Jobs;
using ProDesk.Web.Realtime;
using ProDesk.Web.Reports;
using ProDesk.Web.Security;
using ProDesk.Web.Sla;
using ProDesk.Web.Tenancy;
using ProDesk.Web.TenantKeys;
using ProDesk.Web.WorkItems;

// One executable: the web host, or a command-line verb (CONTRACT.md) that uses the same wiring and exits.
var verb = CliVerb.Parse(args);
try
{
    var builder = WebApplication.CreateBuilder(SourceCheckout.Options(verb?.HostArgs ?? args));
    SourceCheckout.UseDefaultUrl(builder);
    builder.AddProDeskHosting(commandLine: verb is not null);
    builder.AddData();
    builder.AddIdentityAndAccess();
    builder.AddApiRateLimits();
    builder.AddUserAccounts();
    builder.AddWorkItems();
    builder.AddReports();
    builder.AddSla();
    builder.AddChannels();
    builder.AddContacts();
    builder.AddCsat();
    builder.AddTenantKeys();
    builder.AddTenancy();
    builder.AddJobs();
    builder.AddRealtime();
    builder.AddHealth();
    builder.AddMetrics();

    var app = builder.Build();

    if (verb is not null)
    {
        return await CliRunner.RunAsync(app, verb);
    }

    await app.PrepareDatabaseAsync();
    await app.RefuseDemoSecretsInProductionAsync();
    app.LoadServerKeys();

    app.UseSecurityHeaders();
    app.UseProDeskHosting();
    app.UseCrossSiteRefusal();
    app.UseRouting();
    // Only endpoints that ask for a policy answer CORS: the chat widget's hub, called from client sites.
    app.UseCors();
    app.UseIdentityAndAccess();
    app.UseApiRateLimits();
    app.UseTenancy();
    app.UseAuthorization();
    app.UseHubConnectionOwners();
    app.UseJobs();

    app.MapHealth();
    app.MapMetrics();
    app.MapApiDocs();
    app.MapIdentityApi();
    app.MapStaffApi();
    app.MapUsersApi();
    app.MapWorkItemsApi();
    app.MapSlaPolicyApi();
    app.MapCalendarApi();
    app.MapChannels();
    app.MapContactsApi();
    app.MapCannedRepliesApi();
    app.MapCsatApi();
    app.MapTenantKeysApi();
    app.MapSlaReport();
    if (!app.Environment.IsDevelopment() && CsatRequests.PublicBaseUrl(app.Configuration) == CsatRequests.DefaultPublicBaseUrl)
    {
        // Rating links in customers' mail would point at localhost: say so once, at start.
        app.Logger.LogWarning("{Setting} is not set: satisfaction-survey links in customer mail will use {Default}", CsatRequests.PublicBaseUrlKey, CsatRequests.DefaultPublicBaseUrl);
    }

    app.MapConnectEndpoints();
    app.MapStaticAssets();
    app.MapRazorPages();
    app.MapRealtime();

    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is StartupException or InvalidDataException or OptionsValidationException || DataDirectoryRefused(e))
{
    // Bad configuration or seed files: one line that names what is wrong, no stack trace.
    var cause = e is InvalidDataException ? string.Concat(Causes(e.InnerException).Select(m => $" {m}")) : "";
    if (DataDirectoryRefused(e))
    {
        await Console.Error.WriteLineAsync($"ProDesk cannot start: the data directory is not writable by this process: {e.GetBaseException().Message}".ReplaceLineEndings(" "));
        return 2;
    }

    await Console.Error.WriteLineAsync($"ProDesk cannot start: {e.Message}{cause}".ReplaceLineEndings(" "));
    return 2;
}

// A data directory the process may not write (a read-only mount, files owned by another user): an operator's fix, not a crash.
static bool DataDirectoryRefused(Exception e) =>
    e.GetBaseException() is UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 8 /* SQLITE_READONLY */ };

static IEnumerable<string> Causes(Exception? e)
{
    for (; e is not null; e = e.InnerException)
    {
        yield return e.Message;
    }
}

public partial class Program;
