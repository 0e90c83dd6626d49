using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Data.Identity;
using ProDesk.Web.Identity;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.TenantIsolation;

/// <summary>
/// Every endpoint the app maps is in the table below, with what another tenant's caller gets. A
/// route that names a tenant or a resource is called with another tenant's credentials and ids:
/// the answer is 404 and the database is unchanged. A new endpoint missing from the table fails.
/// </summary>
public sealed class EveryEndpointTests(ProDeskApp app) : PostgresTest(app)
{
    private enum Kind
    {
        /// <summary>Names no tenant or resource and shows nothing tenant-owned (health, docs, sign-in pages).</summary>
        Public,

        /// <summary>Shows or changes only the caller's own things (its profile, its tokens, its start page).</summary>
        OwnOnly,

        /// <summary>Names a tenant or a resource: checked below with another tenant's credentials and ids.</summary>
        CrossTenantChecked,

        /// <summary>Provider staff only: every such row is called below by client users and integration clients, who get 404.</summary>
        ProviderOnly,

        /// <summary>
        /// Called by machines and the public with the tenant's channel key instead of a user: another tenant's
        /// key, a wrong key and an unknown tenant get the same refusal (Features/Channels).
        /// </summary>
        ChannelKeyChecked,

        /// <summary>
        /// Public, for a client's customers with no account, and authorised by an HMAC-signed token in the path
        /// that names the tenant and the item (the CSAT rating link): a forged, edited or other tenant's token
        /// gets 404 and stores nothing (Features/Channels/CsatTests). Shows the tenant's name and the score only.
        /// </summary>
        SignedLink,
    }

    private static readonly Dictionary<string, Kind> Table = new(StringComparer.Ordinal)
    {
        ["GET /health/live"] = Kind.Public,
        ["GET /health/ready"] = Kind.Public,
        ["GET /metrics"] = Kind.ProviderOnly,
        ["GET /api/docs/favicon.svg"] = Kind.Public,
        ["GET /openapi/{documentName}.json"] = Kind.Public,
        ["GET /api/docs/{documentName?}"] = Kind.Public,
        ["GET /api/docs/scalar.js"] = Kind.Public,
        ["GET /api/docs/scalar.aspnetcore.js"] = Kind.Public,
        ["POST /connect/token"] = Kind.Public,
        ["GET /connect/authorize"] = Kind.OwnOnly,
        ["POST /connect/authorize"] = Kind.OwnOnly,
        ["* /"] = Kind.Public,
        ["* /Index"] = Kind.Public,
        ["* /login"] = Kind.Public,
        ["* /login/2fa"] = Kind.Public,
        ["* /login/forgot"] = Kind.Public,
        // Acts only with the single-use token a mail carried to the user (Features/Identity/UserAccountsTests).
        ["* /account/set-password"] = Kind.Public,
        ["* /logout"] = Kind.Public,
        ["* /account/security"] = Kind.OwnOnly,
        ["* /account/tokens"] = Kind.OwnOnly,
        ["* /agent"] = Kind.ProviderOnly,
        ["* /agent/search"] = Kind.ProviderOnly,
        ["* /supervisor"] = Kind.ProviderOnly,
        ["* /supervisor/sla"] = Kind.ProviderOnly,
        ["* /admin"] = Kind.ProviderOnly,
        ["* /admin/staff"] = Kind.ProviderOnly,
        ["* /admin/staff/accounts"] = Kind.ProviderOnly,
        // A client admin's own company's users, from its one tenant claim; another company's user is 404 (UserAccountsTests).
        ["* /portal/users"] = Kind.OwnOnly,
        ["* /portal"] = Kind.OwnOnly,
        ["GET /api/v1/me"] = Kind.OwnOnly,
        ["GET /api/v1/tenants"] = Kind.OwnOnly,
        ["GET /api/v1/me/tokens/"] = Kind.OwnOnly,
        ["POST /api/v1/me/tokens/"] = Kind.OwnOnly,
        ["* /t/{tenant}"] = Kind.CrossTenantChecked,
        ["* /agent/items/{tenant}/{id:guid}"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/conversations"] = Kind.CrossTenantChecked,
        ["GET /api/v1/tenants/{tenant}/work-items"] = Kind.CrossTenantChecked,
        ["GET /api/v1/tenants/{tenant}/reports/sla"] = Kind.CrossTenantChecked,
        ["GET /api/v1/tenants/{tenant}/work-items/{id:guid}"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/work-items/{id:guid}/replies"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/work-items/{id:guid}/notes"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/work-items/{id:guid}/status"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/work-items/{id:guid}/move"] = Kind.CrossTenantChecked,
        ["PUT /api/v1/tenants/{tenant}/work-items/{id:guid}/tags"] = Kind.CrossTenantChecked,
        ["PUT /api/v1/tenants/{tenant}/work-items/{id:guid}/assignee"] = Kind.CrossTenantChecked,
        ["PUT /api/v1/tenants/{tenant}/work-items/{id:guid}/fields"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/work-items/{id:guid}/attachments"] = Kind.CrossTenantChecked,
        ["GET /api/v1/tenants/{tenant}/work-items/{id:guid}/attachments/{attachmentId:guid}"] = Kind.CrossTenantChecked,
        ["HEAD /api/v1/tenants/{tenant}/work-items/{id:guid}/attachments/{attachmentId:guid}"] = Kind.CrossTenantChecked,
        ["POST /api/v1/work/next"] = Kind.CrossTenantChecked,
        // Hub calls are checked per invocation (Features/Realtime/AgentHubTests).
        ["* /hubs/agent"] = Kind.CrossTenantChecked,
        ["* /hubs/agent/negotiate"] = Kind.CrossTenantChecked,
        ["DELETE /api/v1/me/tokens/{id:guid}"] = Kind.CrossTenantChecked,
        ["GET /api/v1/admin/staff/"] = Kind.ProviderOnly,
        ["PUT /api/v1/admin/staff/{id:guid}/tenants"] = Kind.ProviderOnly,
        ["PUT /api/v1/admin/staff/{id:guid}/role"] = Kind.ProviderOnly,
        ["POST /api/v1/admin/users/"] = Kind.ProviderOnly,
        ["GET /api/v1/admin/users/{id:guid}"] = Kind.ProviderOnly,
        ["PUT /api/v1/admin/users/{id:guid}/disabled"] = Kind.ProviderOnly,
        ["POST /api/v1/admin/users/{id:guid}/invitation"] = Kind.ProviderOnly,
        // A client admin's own tenant's users; another tenant's user is 404 on the caller's own tenant too (UserAccountsTests).
        ["GET /api/v1/tenants/{tenant}/users/"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/users/"] = Kind.CrossTenantChecked,
        ["PUT /api/v1/tenants/{tenant}/users/{id:guid}/disabled"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/users/{id:guid}/invitation"] = Kind.CrossTenantChecked,
        // Provider-admin routes on a tenant: called below on the callers' own tenant, which they may otherwise see.
        ["* /admin/sla/{tenant?}"] = Kind.ProviderOnly,
        ["* /admin/mail/{tenant?}"] = Kind.ProviderOnly,
        ["GET /api/v1/tenants/{tenant}/sla/policies"] = Kind.ProviderOnly,
        ["PUT /api/v1/tenants/{tenant}/sla/policies/{queue}/{priority}"] = Kind.ProviderOnly,
        ["GET /api/v1/tenants/{tenant}/calendar"] = Kind.ProviderOnly,
        ["PUT /api/v1/tenants/{tenant}/calendar/holidays"] = Kind.ProviderOnly,
        ["DELETE /api/v1/tenants/{tenant}/calendar/holidays/{date}"] = Kind.ProviderOnly,
        ["GET /api/v1/tenants/{tenant}/channels/email/quarantine/"] = Kind.ProviderOnly,
        ["GET /api/v1/tenants/{tenant}/channels/email/quarantine/{id:guid}/raw"] = Kind.ProviderOnly,
        ["POST /api/v1/tenants/{tenant}/channels/email/quarantine/{id:guid}/reprocess"] = Kind.ProviderOnly,
        ["POST /api/v1/tenants/{tenant}/channels/email/quarantine/{id:guid}/discard"] = Kind.ProviderOnly,
        ["GET /api/v1/tenants/{tenant}/channels/email/mailboxes/"] = Kind.ProviderOnly,
        ["PUT /api/v1/tenants/{tenant}/channels/email/mailboxes/{key}"] = Kind.ProviderOnly,
        ["DELETE /api/v1/tenants/{tenant}/channels/email/mailboxes/{key}"] = Kind.ProviderOnly,
        ["POST /channels/email/{tenant}/inbound"] = Kind.ChannelKeyChecked,
        ["POST /channels/webform/{tenant}"] = Kind.ChannelKeyChecked,
        ["POST /channels/sms/{tenant}/twilio"] = Kind.ChannelKeyChecked,
        ["POST /channels/voice/{tenant}/calls"] = Kind.ChannelKeyChecked,
        // Signed with the sending account's token over the callback URL; another tenant's route finds none of the text's (SmsTests).
        ["POST /channels/sms/{tenant}/twilio/status"] = Kind.ChannelKeyChecked,
        // The same script and demo page for any slug, known or not; the hub needs the widget key (Features/Channels/ChatTests).
        ["GET /channels/chat/{tenant}/widget.js"] = Kind.Public,
        ["GET /channels/chat/{tenant}/demo"] = Kind.Public,
        ["* /hubs/chat"] = Kind.ChannelKeyChecked,
        ["* /hubs/chat/negotiate"] = Kind.ChannelKeyChecked,
        ["GET /api/v1/tenants/{tenant}/contacts/"] = Kind.CrossTenantChecked,
        ["GET /api/v1/tenants/{tenant}/contacts/{id:guid}"] = Kind.CrossTenantChecked,
        ["PUT /api/v1/tenants/{tenant}/contacts/{id:guid}"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/contacts/{id:guid}/merge"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/work-items/{id:guid}/merge"] = Kind.CrossTenantChecked,
        ["GET /api/v1/tenants/{tenant}/canned-replies/"] = Kind.CrossTenantChecked,
        ["GET /api/v1/tenants/{tenant}/canned-replies/{id:guid}"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/canned-replies/"] = Kind.CrossTenantChecked,
        ["PUT /api/v1/tenants/{tenant}/canned-replies/{id:guid}"] = Kind.CrossTenantChecked,
        ["DELETE /api/v1/tenants/{tenant}/canned-replies/{id:guid}"] = Kind.CrossTenantChecked,
        ["GET /api/v1/tenants/{tenant}/work-items/{id:guid}/canned-replies/{cannedId:guid}/rendered"] = Kind.CrossTenantChecked,
        ["GET /api/v1/tenants/{tenant}/csat/"] = Kind.CrossTenantChecked,
        // Provider admins and the tenant's own client admin only (Features/TenantKeys): another tenant's admin gets 404.
        ["GET /api/v1/tenants/{tenant}/clients"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/clients/{clientId}/secret"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/channels/inbound-key"] = Kind.CrossTenantChecked,
        ["POST /api/v1/tenants/{tenant}/channels/widget-key"] = Kind.CrossTenantChecked,
        ["GET /api/v1/tenants/{tenant}/channels/email/acknowledgment/"] = Kind.CrossTenantChecked,
        ["PUT /api/v1/tenants/{tenant}/channels/email/acknowledgment/"] = Kind.CrossTenantChecked,
        ["PUT /api/v1/tenants/{tenant}/channels/sms-auth-token"] = Kind.CrossTenantChecked,
        ["* /csat/{token}/{score}"] = Kind.SignedLink,
    };

    [Fact]
    public void Every_mapped_endpoint_is_in_the_table()
    {
        var mapped = MappedEndpoints();
        var missing = mapped.Where(e => !Table.ContainsKey(e)).ToList();
        Assert.True(missing.Count == 0, "Endpoints missing from the tenant-isolation table (add them with the check they need): " + string.Join(", ", missing));
        var stale = Table.Keys.Where(k => !mapped.Contains(k)).ToList();
        Assert.True(stale.Count == 0, "Table rows for endpoints that no longer exist: " + string.Join(", ", stale));
    }

    [Fact]
    public async Task Another_tenants_caller_gets_404_on_a_tenant_page()
    {
        var acmeClient = App.CreateClient().WithBearer((await App.ClientCredentialsAsync("acme-integration", Browserless.DemoSecret("acme"))).GetProperty("access_token").GetString()!);
        var acmeAdmin = await App.SignedInAsync("admin@acme.test");
        foreach (var caller in new[] { acmeClient, acmeAdmin })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await caller.GetAsync("/t/northwind")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await caller.GetAsync("/t/acme")).StatusCode);
        }
    }

    [Fact]
    public async Task Every_tenant_route_answers_404_to_another_tenants_callers_and_changes_nothing()
    {
        var northwind = App.CreateClient().WithBearer((await App.ClientCredentialsAsync("northwind-integration", Browserless.DemoSecret("northwind"))).GetProperty("access_token").GetString()!);
        var created = await northwind.PostAsJsonAsync("/api/v1/tenants/northwind/conversations", new { from = "n@example.com", subject = "Northwind only", body = "b", externalId = "nw-1" });
        var id = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        var upload = await northwind.PostAsync($"/api/v1/tenants/northwind/work-items/{id}/attachments", new MultipartFormDataContent { { new ByteArrayContent("secret"u8.ToArray()), "file", "contract.txt" } });
        var attachmentId = System.Text.Json.JsonDocument.Parse(await upload.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        // A contact (the conversation's sender) and a canned reply of northwind, for the routes that name those.
        var contactId = await App.InTenantAsync("northwind", db => db.Contacts.Select(c => c.Id).SingleAsync());
        var cannedId = await App.InTenantAsync("northwind", async db =>
        {
            var canned = db.CannedReplies.Add(new ProDesk.Data.CannedReplies.CannedReply { Id = Guid.NewGuid(), Title = "Northwind only", Body = "b", Shortcut = "nw", CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow }).Entity;
            await db.SaveChangesAsync();
            return canned.Id;
        });
        var before = (await northwind.JsonAsync($"/api/v1/tenants/northwind/work-items/{id}")).GetRawText() + await NorthwindContactsAndRepliesAsync();

        var callers = new Dictionary<string, HttpClient>
        {
            ["acme integration"] = App.CreateClient().WithBearer((await App.ClientCredentialsAsync("acme-integration", Browserless.DemoSecret("acme"))).GetProperty("access_token").GetString()!),
            ["acme client admin"] = App.CreateClient().WithBearer((await App.PatAsync("admin@acme.test")).Secret),
            ["agent of merlion and sla-lab"] = App.CreateClient().WithBearer((await App.PatAsync("agent3@prodesk.test")).Secret),
        };
        var routes = Table.Where(r => r.Value == Kind.CrossTenantChecked && r.Key.Contains("{tenant}", StringComparison.Ordinal)).Select(r => r.Key).ToList();
        foreach (var (who, caller) in callers)
        {
            foreach (var route in routes)
            {
                var (method, template) = (route.Split(' ')[0], route.Split(' ')[1]);
                foreach (var slug in new[] { "northwind", "acme" })
                {
                    // Their own tenant with the other tenant's item id is as much a 404 as the other tenant itself.
                    if (slug == "acme" && !template.Contains("{id:guid}", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var idOfRoute = template.Contains("/contacts/", StringComparison.Ordinal) ? contactId
                        : template.Contains("/canned-replies/{id", StringComparison.Ordinal) ? cannedId : id;
                    var path = template.Replace("{tenant}", slug, StringComparison.Ordinal).Replace("{id:guid}", idOfRoute.ToString(), StringComparison.Ordinal)
                        .Replace("{attachmentId:guid}", attachmentId.ToString(), StringComparison.Ordinal)
                        .Replace("{cannedId:guid}", cannedId.ToString(), StringComparison.Ordinal)
                        .Replace("{clientId}", "northwind-integration", StringComparison.Ordinal);
                    using var request = new HttpRequestMessage(new HttpMethod(method == "*" ? "GET" : method), path);
                    if (path.EndsWith("/attachments", StringComparison.Ordinal))
                    {
                        request.Content = new MultipartFormDataContent { { new ByteArrayContent("intruder"u8.ToArray()), "file", "x.txt" } };
                    }
                    else if (method is "POST" or "PUT")
                    {
                        request.Content = JsonContent.Create(new { authToken = "intruder", body = "intruder", status = "Closed", from = "x@example.com", subject = "x", externalId = "nw-1", force = true, tags = new[] { "pwned" }, name = "x", title = "x", queue = "support", priority = "Urgent" });
                    }

                    var response = await caller.SendAsync(request);
                    Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{who}: {method} {path} answered {(int)response.StatusCode}");
                }
            }
        }

        Assert.Equal(before, (await northwind.JsonAsync($"/api/v1/tenants/northwind/work-items/{id}")).GetRawText() + await NorthwindContactsAndRepliesAsync());
        Assert.Equal(HttpStatusCode.NoContent, (await callers["agent of merlion and sla-lab"].PostAsync("/api/v1/work/next", null)).StatusCode);
    }

    [Fact]
    public async Task A_provider_admin_reaches_a_dropped_mail_and_a_follow_up_only_through_their_own_tenants_routes()
    {
        // Northwind: an out-of-office that answers nothing (dropped), and a closed conversation its customer answered again.
        var away = "From: Kim <kim@example.net>\r\nTo: support@northwind.test\r\nMessage-ID: <away-nw@example.net>\r\nSubject: Away until May 5\r\n"
            + "Auto-Submitted: auto-replied\r\n\r\nI am travelling.\r\n";
        using var mail = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(away));
        mail.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("message/rfc822");
        mail.Headers.Add(ProDesk.Web.Channels.Email.EmailInboundApi.KeyHeader, "demo-northwind-inbound-key-0123456789");
        var dropped = System.Text.Json.JsonDocument.Parse(await (await App.CreateClient().PostAsync("/channels/email/northwind/inbound", mail)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("dropped", dropped.GetProperty("outcome").GetString());
        var mailId = dropped.GetProperty("id").GetGuid();
        var northwind = App.CreateClient().WithBearer((await App.ClientCredentialsAsync("northwind-integration", Browserless.DemoSecret("northwind"))).GetProperty("access_token").GetString()!);
        var first = await northwind.CreateConversationAsync("northwind", "nw-closed", "Northwind only");
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        foreach (var status in new[] { "Solved", "Closed" })
        {
            (await admin.PostAsJsonAsync($"/api/v1/tenants/northwind/work-items/{first}/status", new { status })).EnsureSuccessStatusCode();
        }

        var again = await northwind.PostAsJsonAsync("/api/v1/tenants/northwind/conversations", new { from = "customer@example.com", subject = "Re: Northwind only", body = "Again", externalId = "nw-again" });
        var followUp = System.Text.Json.JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        Assert.Equal(first, (await admin.JsonAsync($"/api/v1/tenants/northwind/work-items/{followUp}")).GetProperty("followUpOf").GetProperty("id").GetGuid());

        // Through acme's routes, neither exists, and nothing is taken in.
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync($"/api/v1/tenants/acme/channels/email/quarantine/{mailId}/reprocess", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/tenants/acme/channels/email/quarantine/{mailId}/raw")).StatusCode);
        Assert.Empty((await admin.JsonAsync("/api/v1/tenants/acme/channels/email/quarantine?state=dropped")).GetProperty("items").EnumerateArray());
        var console = await App.SignedInAsync("admin@prodesk.test");
        foreach (var item in new[] { first, followUp })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/tenants/acme/work-items/{item}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await console.GetAsync($"/agent/items/acme/{item}")).StatusCode);
        }

        Assert.Equal(ProDesk.Data.Channels.InboundMailState.Dropped, await App.InTenantAsync("northwind", db => db.InboundMails.Where(m => m.Id == mailId).Select(m => m.State).SingleAsync()));
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    [Fact]
    public async Task Another_tenants_user_cannot_revoke_a_token_by_its_id()
    {
        var victim = await App.PatAsync("admin@northwind.test");
        var attacker = App.CreateClient().WithBearer((await App.PatAsync("admin@acme.test")).Secret);

        Assert.Equal(HttpStatusCode.NotFound, (await attacker.DeleteAsync($"/api/v1/me/tokens/{victim.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().WithBearer(victim.Secret).GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task Client_users_and_integration_clients_get_404_on_every_provider_route_and_change_nothing()
    {
        var agentId = (await App.UserAsync("agent2@prodesk.test")).Id;
        var before = (string.Join(",", await ServedAsync(agentId)), await RolesAsync(agentId), await AcmeSlaAsync());
        var callers = new Dictionary<string, HttpClient>
        {
            ["client admin (cookie)"] = await App.SignedInAsync("admin@acme.test"),
            ["client viewer (token)"] = App.CreateClient().WithBearer((await App.PatAsync("viewer@acme.test")).Secret),
            ["integration client"] = App.CreateClient().WithBearer((await App.ClientCredentialsAsync("acme-integration", Browserless.DemoSecret("acme"))).GetProperty("access_token").GetString()!),
        };

        var routes = Table.Where(r => r.Value == Kind.ProviderOnly).Select(r => r.Key).ToList();
        Assert.NotEmpty(routes);
        foreach (var (who, caller) in callers)
        {
            foreach (var route in routes)
            {
                // Tenant routes name the callers' own tenant (acme) and things in it: only the role stands in the way.
                var (method, path) = (route.Split(' ')[0], route.Split(' ')[1].Replace("{id:guid}", agentId.ToString(), StringComparison.Ordinal)
                    .Replace("{tenant?}", "acme", StringComparison.Ordinal).Replace("{tenant}", "acme", StringComparison.Ordinal)
                    .Replace("{queue}", "support", StringComparison.Ordinal).Replace("{priority}", "Normal", StringComparison.Ordinal)
                    .Replace("{date}", "2026-12-25", StringComparison.Ordinal));  // one of acme's seeded holidays
                using var request = new HttpRequestMessage(new HttpMethod(method == "*" ? "GET" : method), path);
                if (path.EndsWith("/calendar/holidays", StringComparison.Ordinal))
                {
                    request.Content = new StringContent("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:20270301\r\nSUMMARY:Intruder\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", System.Text.Encoding.UTF8, "text/calendar");
                }
                else if (method is "PUT" or "POST")
                {
                    request.Content = JsonContent.Create(new { tenants = new[] { "acme", "northwind", "merlion", "sla-lab" }, role = "ProviderAdmin", firstResponseMinutes = 1 });
                }

                var response = await caller.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{who}: {route} answered {(int)response.StatusCode}");
            }
        }

        Assert.Equal(before, (string.Join(",", await ServedAsync(agentId)), await RolesAsync(agentId), await AcmeSlaAsync()));
    }

    [Fact]
    public async Task A_provider_admin_reassigns_an_agent_and_it_is_audited()
    {
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var agentId = (await App.UserAsync("agent2@prodesk.test")).Id;

        var bad = await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agentId}/tenants", new { tenants = new[] { "acme", "globex" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("tenants[1]", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var withNull = await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agentId}/tenants", new { tenants = new[] { "merlion", null } });
        Assert.Equal(HttpStatusCode.BadRequest, withNull.StatusCode);
        Assert.Contains("tenants[1]", await withNull.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Nor does a body without the list take every tenant away.
        var missing = await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agentId}/tenants", new { });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("\"tenants\"", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotEmpty(await ServedAsync(agentId));

        var put = await admin.PutAsJsonAsync($"/api/v1/admin/staff/{agentId}/tenants", new { tenants = new[] { "merlion" } });
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal(["merlion"], await ServedAsync(agentId));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PutAsJsonAsync($"/api/v1/admin/staff/{(await App.UserAsync("admin@acme.test")).Id}/tenants", new { tenants = new[] { "merlion" } })).StatusCode);

        // The agent's own token sees the change at once.
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent2@prodesk.test")).Secret);
        Assert.Equal("merlion", (await agent.JsonAsync("/api/v1/tenants"))[0].GetProperty("slug").GetString());

        await using var scope = App.Services.CreateAsyncScope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().AuditEvents
            .AnyAsync(e => e.Action == "tenants-assigned" && e.Target == "agent2@prodesk.test" && e.Details == "merlion" && e.ActorName == "admin@prodesk.test"));
    }

    private List<string> MappedEndpoints() =>
        App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.StaticAssets.StaticAssetDescriptor>() is null)
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => $"{m} /{e.RoutePattern.RawText?.TrimStart('/')}"))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

    private async Task<List<string>> ServedAsync(Guid userId)
    {
        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProDeskDbContext>();
        return await db.StaffTenants.Where(s => s.UserId == userId).Join(db.Tenants, s => s.TenantId, t => t.Id, (_, t) => t.Slug).OrderBy(s => s).ToListAsync();
    }

    /// <summary>acme's policy versions and stored calendar, which the provider-admin SLA routes would change.</summary>
    private async Task<string> AcmeSlaAsync()
    {
        var versions = await App.InTenantAsync("acme", db => db.SlaPolicies.CountAsync());
        await using var scope = App.Services.CreateAsyncScope();
        var calendar = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().Tenants.Where(t => t.Slug == "acme").Select(t => t.CalendarJson).FirstAsync();
        return $"{versions} {calendar}";
    }

    /// <summary>northwind's contacts and canned replies as they stand, which the contact and canned-reply routes would change.</summary>
    private Task<string> NorthwindContactsAndRepliesAsync() =>
        App.InTenantAsync("northwind", async db =>
            string.Join(";", (await db.Contacts.AsNoTracking().OrderBy(c => c.Id).ToListAsync()).Select(c => $"{c.Id} {c.Name} {c.Email} {c.Phone} {c.Company}"))
            + string.Join(";", (await db.CannedReplies.AsNoTracking().OrderBy(c => c.Id).ToListAsync()).Select(c => $"{c.Id} {c.Title} {c.Body} {c.Shortcut}")));

    private async Task<string> RolesAsync(Guid userId)
    {
        await using var scope = App.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        return string.Join(',', await users.GetRolesAsync((await users.FindByIdAsync(userId.ToString()))!));
    }

}
