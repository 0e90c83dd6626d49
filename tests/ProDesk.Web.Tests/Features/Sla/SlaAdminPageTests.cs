using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Sla;

/// <summary>
/// The SLA admin page (/admin/sla) and who may use the policy and calendar routes: provider admins only;
/// everyone else, provider staff included, gets 404 and changes nothing.
/// </summary>
public sealed class SlaAdminPageTests(ProDeskApp app) : PostgresTest(app)
{
    private const string OneHoliday = """
        BEGIN:VCALENDAR
        VERSION:2.0
        PRODID:-//Acme//Closures//EN
        BEGIN:VEVENT
        UID:founders-day@acme.test
        DTSTART;VALUE=DATE:20270611
        SUMMARY:Fête de l'entreprise
        END:VEVENT
        END:VCALENDAR
        """;

    [Fact]
    public async Task Only_provider_admins_may_read_or_change_policies_and_calendars()
    {
        var callers = new Dictionary<string, HttpClient>
        {
            ["supervisor"] = App.CreateClient().WithBearer((await App.PatAsync("supervisor@prodesk.test")).Secret),
            ["agent serving acme"] = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret),
            ["acme client admin"] = App.CreateClient().WithBearer((await App.PatAsync("admin@acme.test")).Secret),
            ["acme client admin (cookie)"] = await App.SignedInAsync("admin@acme.test"),
            ["acme integration client"] = await App.IntegrationClientAsync("acme"),
        };
        var before = await StateAsync();

        foreach (var (who, caller) in callers)
        {
            var answers = new Dictionary<string, HttpResponseMessage>
            {
                ["GET policies"] = await caller.GetAsync("/api/v1/tenants/acme/sla/policies"),
                ["PUT policy"] = await caller.PutAsJsonAsync("/api/v1/tenants/acme/sla/policies/support/Normal", new { firstResponseMinutes = 1 }),
                ["GET calendar"] = await caller.GetAsync("/api/v1/tenants/acme/calendar"),
                ["PUT holidays"] = await caller.PutAsync("/api/v1/tenants/acme/calendar/holidays", new StringContent(OneHoliday, Encoding.UTF8, "text/calendar")),
                ["DELETE holiday"] = await caller.DeleteAsync("/api/v1/tenants/acme/calendar/holidays/2026-12-25"),
                ["GET page"] = await caller.GetAsync("/admin/sla/acme"),
            };
            foreach (var (what, answer) in answers)
            {
                Assert.True(answer.StatusCode == HttpStatusCode.NotFound, $"{who}: {what} answered {(int)answer.StatusCode}");
            }
        }

        Assert.Equal(before, await StateAsync());
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/tenants/acme/sla/policies")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/v1/tenants/globex/sla/policies")).StatusCode);
    }

    [Fact]
    public async Task A_provider_admin_changes_a_policy_and_imports_holidays_on_the_admin_page()
    {
        var admin = await App.SignedInAsync("admin@prodesk.test");
        Assert.Contains("href=\"/admin/sla\"", await admin.GetStringAsync("/admin"), StringComparison.Ordinal);

        // The client chooser is a plain GET form; the chosen client goes into the path.
        var chosen = await admin.GetAsync("/admin/sla?client=acme");
        Assert.Equal(HttpStatusCode.Redirect, chosen.StatusCode);
        Assert.Equal("/admin/sla/acme", chosen.Headers.Location?.OriginalString);
        var page = WebUtility.HtmlDecode(await admin.GetStringAsync("/admin/sla/acme"));
        Assert.Contains("Current policies of Acme Plomberie SAS", page, StringComparison.Ordinal);
        Assert.Contains("Noël", page, StringComparison.Ordinal);

        var editPage = "/admin/sla/acme?queue=support&priority=Normal";
        var form = WebUtility.HtmlDecode(await admin.GetStringAsync(editPage));
        Assert.Contains("<label for=\"Form_FirstResponseMinutes\">", form, StringComparison.Ordinal);
        Assert.Contains("value=\"240\"", form, StringComparison.Ordinal);

        // A queue the tenant does not have, named in an escalation: the form says which line and why.
        var invalid = await admin.PostAsync("/admin/sla/acme?handler=Policy", Fields(await Browserless.AntiforgeryTokenAsync(admin, editPage), "breach moveToQueue nowhere"));
        Assert.Equal(HttpStatusCode.OK, invalid.StatusCode);
        Assert.Contains("line 1: queue must be one of the tenant's queues", WebUtility.HtmlDecode(await invalid.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(1, await VersionAsync());

        var saved = await admin.PostAsync("/admin/sla/acme?handler=Policy", Fields(await Browserless.AntiforgeryTokenAsync(admin, editPage), "breach notifySupervisors\r\nwarning moveToQueue billing"));
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var after = WebUtility.HtmlDecode(await admin.GetStringAsync(saved.Headers.Location!.OriginalString));
        Assert.Contains("Saved: support / Normal is now version 2.", after, StringComparison.Ordinal);
        Assert.Contains("breach notifySupervisors; warning moveToQueue billing", after, StringComparison.Ordinal);
        Assert.Contains("admin@prodesk.test", after, StringComparison.Ordinal); // in the version history
        Assert.Equal(2, await VersionAsync());

        // Without the antiforgery token nothing is saved.
        var forged = await admin.PostAsync("/admin/sla/acme?handler=Policy", new FormUrlEncodedContent([new("Queue", "support"), new("Priority", "Normal"), new("Form.FirstResponseMinutes", "5")]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(2, await VersionAsync());

        var upload = new MultipartFormDataContent
        {
            { new StringContent(await Browserless.AntiforgeryTokenAsync(admin, "/admin/sla/acme")), "__RequestVerificationToken" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(OneHoliday.ReplaceLineEndings("\r\n"))), "ics", "closures.ics" },
        };
        var imported = WebUtility.HtmlDecode(await (await admin.PostAsync("/admin/sla/acme?handler=Holidays", upload)).Content.ReadAsStringAsync());
        Assert.Contains("Imported 1 holiday(s) from closures.ics.", imported, StringComparison.Ordinal);
        Assert.Contains("2027-06-11 Fri</time></td>", imported, StringComparison.Ordinal);
        Assert.Contains("Fête de l'entreprise", imported, StringComparison.Ordinal);

        // And taken off again, from the same list.
        var remove = new FormUrlEncodedContent(
            [new("__RequestVerificationToken", await Browserless.AntiforgeryTokenAsync(admin, "/admin/sla/acme")), new("date", "2027-06-11")]);
        var removed = WebUtility.HtmlDecode(await (await admin.PostAsync("/admin/sla/acme?handler=RemoveHoliday", remove)).Content.ReadAsStringAsync());
        Assert.Contains("2027-06-11 is a working day again", removed, StringComparison.Ordinal);
        Assert.DoesNotContain("2027-06-11 Fri</time></td>", removed, StringComparison.Ordinal);
    }

    private static FormUrlEncodedContent Fields(string token, string escalations) => new(
    [
        new("__RequestVerificationToken", token),
        new("Queue", "support"),
        new("Priority", "Normal"),
        new("Form.FirstResponseMinutes", "120"),
        new("Form.NextResponseMinutes", "480"),
        new("Form.ResolutionMinutes", ""),
        new("Form.WarningPercents", "80"),
        new("Form.PauseStatuses", "Pending"),
        new("Form.Escalations", escalations),
    ]);

    private Task<int> VersionAsync() =>
        App.InTenantAsync("acme", db => db.SlaPolicies.Where(p => p.QueueKey == "support" && p.Priority == "Normal").MaxAsync(p => p.Version));

    private async Task<(int Policies, string Calendar)> StateAsync()
    {
        var policies = await App.InTenantAsync("acme", db => db.SlaPolicies.CountAsync());
        await using var scope = App.Services.CreateAsyncScope();
        var calendar = await scope.ServiceProvider.GetRequiredService<ProDesk.Data.ProDeskDbContext>().Tenants.Where(t => t.Slug == "acme").Select(t => t.CalendarJson).FirstAsync();
        return (policies, calendar);
    }
}
