using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data;
using ProDesk.Web.Channels;
using ProDesk.Web.Tenancy;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Contacts;

/// <summary>One contact per person in a tenant: found, corrected and merged by provider staff, never across tenants.</summary>
public sealed class ContactsApiTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<HttpClient> StaffAsync(string email = "agent2@prodesk.test") =>
        App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);

    /// <summary>A conversation through the API channel from <paramref name="from"/>; returns the item id.</summary>
    private async Task<Guid> ConversationAsync(string slug, string from, string name, string subject = "Help")
    {
        var integration = await App.IntegrationClientAsync(slug);
        var response = await integration.PostAsJsonAsync($"/api/v1/tenants/{slug}/conversations", new { from, name, subject, body = "Please help.", externalId = Guid.NewGuid().ToString() });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
    }

    /// <summary>An SMS into the one ingestion path, as the SMS adapter hands it over; returns the item id.</summary>
    private async Task<Guid> SmsAsync(string slug, string phone, string body = "Any news?")
    {
        using (TenantScopes.Enter(await App.ScopeAsync(slug)))
        {
            await using var scope = App.Services.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<IngestMessage>().HandleAsync(
                new InboundMessage("sms", Guid.NewGuid().ToString(), phone, null, "SMS", body) { FromIsPhone = true, ContinuesLatest = true }, CancellationToken.None);
            return result.Item.Id;
        }
    }

    private Task<Guid> ContactOfAsync(string slug, Guid itemId) =>
        App.InTenantAsync(slug, db => db.WorkItems.Where(w => w.Id == itemId).Select(w => w.ContactId!.Value).SingleAsync());

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    [Fact]
    public async Task Staff_search_contacts_by_name_email_or_phone_page_by_page()
    {
        await ConversationAsync("acme", "ada@example.com", "Ada Lovelace");
        await ConversationAsync("acme", "grace@example.com", "Grace Hopper");
        await ConversationAsync("acme", "alan@example.org", "Alan Turing");
        await SmsAsync("acme", "+33123456789");
        await ConversationAsync("northwind", "ada@northwind-customer.test", "Ada Northwind");
        var agent = await StaffAsync();

        // An empty cursor is the first page, as on every list.
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/api/v1/tenants/acme/contacts?cursor=")).StatusCode);
        var byName = await agent.JsonAsync("/api/v1/tenants/acme/contacts?q=ADA");
        Assert.Equal(["Ada Lovelace"], byName.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        var byEmail = await agent.JsonAsync("/api/v1/tenants/acme/contacts?q=example.org");
        Assert.Equal(["alan@example.org"], byEmail.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("email").GetString()));
        var byPhone = await agent.JsonAsync("/api/v1/tenants/acme/contacts?q=%2B33%201%2023");
        Assert.Equal(["+33123456789"], byPhone.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("phone").GetString()));

        var names = new List<string>();
        string? cursor = null;
        do
        {
            var page = await agent.JsonAsync($"/api/v1/tenants/acme/contacts?limit=2{(cursor is null ? "" : $"&cursor={cursor}")}");
            Assert.InRange(page.GetProperty("items").GetArrayLength(), 1, 2);
            names.AddRange(page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(["+33123456789", "Ada Lovelace", "Alan Turing", "Grace Hopper"], names);
        var bad = await agent.GetAsync("/api/v1/tenants/acme/contacts?cursor=nonsense&limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await BodyAsync(bad)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("cursor", out _) && errors.TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task A_cursor_hides_the_row_it_points_at_and_works_only_on_its_own_tenants_list_and_filters()
    {
        await SmsAsync("acme", "+33123456789");
        await ConversationAsync("acme", "ada@example.com", "Ada Lovelace");
        await ConversationAsync("northwind", "bob@northwind-customer.test", "Bob Northwind");
        var agent = await StaffAsync();

        var cursor = (await agent.JsonAsync("/api/v1/tenants/acme/contacts?limit=1")).GetProperty("nextCursor").GetString()!;
        // The first contact is named by its phone number: a URL in a proxy's log must not tell it.
        Assert.DoesNotContain("33123456789", System.Text.Encoding.Latin1.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(cursor)), StringComparison.Ordinal);
        Assert.Equal(["Ada Lovelace"], (await agent.JsonAsync($"/api/v1/tenants/acme/contacts?limit=1&cursor={cursor}")).GetProperty("items").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        foreach (var elsewhere in new[] { "/api/v1/tenants/northwind/contacts", "/api/v1/tenants/acme/contacts?q=a", "/api/v1/tenants/acme/work-items" })
        {
            var refused = await agent.GetAsync($"{elsewhere}{(elsewhere.Contains('?', StringComparison.Ordinal) ? '&' : '?')}cursor={cursor}");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True((await BodyAsync(refused)).GetProperty("errors").TryGetProperty("cursor", out _), elsewhere);
        }
    }

    [Fact]
    public async Task A_contact_is_shown_with_its_items_newest_first()
    {
        var first = await ConversationAsync("acme", "ada@example.com", "Ada Lovelace", "First");
        var second = await ConversationAsync("acme", "ada@example.com", "Ada Lovelace", "Second");
        var contactId = await ContactOfAsync("acme", first);

        var detail = await (await StaffAsync()).JsonAsync($"/api/v1/tenants/acme/contacts/{contactId}");

        Assert.Equal("ada@example.com", detail.GetProperty("contact").GetProperty("email").GetString());
        Assert.Equal([second, first], detail.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));
    }

    [Fact]
    public async Task Updating_a_contact_checks_its_fields_and_refuses_another_contacts_email_or_phone()
    {
        var ada = await ContactOfAsync("acme", await ConversationAsync("acme", "ada@example.com", "Ada"));
        var grace = await ContactOfAsync("acme", await ConversationAsync("acme", "grace@example.com", "Grace"));
        var phoneOnly = await ContactOfAsync("acme", await SmsAsync("acme", "+15550000001"));
        var agent = await StaffAsync();

        var updated = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{ada}", new { name = " Ada Lovelace ", email = "Ada.Lovelace@Example.com", phone = "+44 20 7946 0000", company = "Analytical Engines" });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var contact = (await BodyAsync(updated)).GetProperty("contact");
        Assert.Equal(("Ada Lovelace", "ada.lovelace@example.com", "+442079460000", "Analytical Engines"),
            (contact.GetProperty("name").GetString(), contact.GetProperty("email").GetString(), contact.GetProperty("phone").GetString(), contact.GetProperty("company").GetString()));

        var invalid = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{ada}", new { name = "", email = "not an address", phone = "call me", company = new string('x', 201) });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(["company", "email", "name", "phone"], (await BodyAsync(invalid)).GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());

        var emailTaken = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{grace}", new { name = "Grace", email = "ADA.LOVELACE@example.com" });
        Assert.Equal(HttpStatusCode.Conflict, emailTaken.StatusCode);
        var problem = await BodyAsync(emailTaken);
        Assert.Equal(("email", ada), (problem.GetProperty("field").GetString(), problem.GetProperty("contactId").GetGuid()));

        var phoneTaken = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{phoneOnly}", new { name = "Caller", phone = "+44 (20) 7946-0000" });
        Assert.Equal(HttpStatusCode.Conflict, phoneTaken.StatusCode);
        Assert.Equal("phone", (await BodyAsync(phoneTaken)).GetProperty("field").GetString());

        // Nothing of the refused updates was kept.
        var graceNow = await agent.JsonAsync($"/api/v1/tenants/acme/contacts/{grace}");
        Assert.Equal("grace@example.com", graceNow.GetProperty("contact").GetProperty("email").GetString());
    }

    [Fact]
    public async Task A_national_phone_is_stored_as_the_same_persons_texts_arrive_and_refused_when_another_contact_has_it()
    {
        // acme is in Europe/Paris: its national numbers are French.
        var ada = await ContactOfAsync("acme", await ConversationAsync("acme", "ada@example.com", "Ada"));
        var grace = await ContactOfAsync("acme", await ConversationAsync("acme", "grace@example.com", "Grace"));
        var alan = await ContactOfAsync("acme", await ConversationAsync("acme", "alan@example.com", "Alan"));
        await App.InTenantAsync("acme", db => db.Contacts.Where(c => c.Id == alan).ExecuteUpdateAsync(s => s.SetProperty(c => c.Phone, "0462532773")));
        var agent = await StaffAsync();

        var updated = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{ada}", new { name = "Ada", email = "ada@example.com", phone = "06 12 34 56 78" });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal("+33612345678", (await BodyAsync(updated)).GetProperty("contact").GetProperty("phone").GetString());

        // The same number in another spelling is another contact's, also when that contact kept its national form.
        var taken = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{grace}", new { name = "Grace", phone = "+33 6 12 34 56 78" });
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal(("phone", ada), ((await BodyAsync(taken)).GetProperty("field").GetString(), (await BodyAsync(taken)).GetProperty("contactId").GetGuid()));
        var takenNationally = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{grace}", new { name = "Grace", phone = "+33462532773" });
        Assert.Equal(HttpStatusCode.Conflict, takenNationally.StatusCode);

        // Searching by the number as people write it finds the contact.
        var found = await agent.JsonAsync("/api/v1/tenants/acme/contacts?q=06%2012%2034%2056%2078");
        Assert.Equal(["Ada"], found.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        // The person's text finds that contact, and one saved in national form before finds its own: no duplicates.
        Assert.Equal(ada, await ContactOfAsync("acme", await SmsAsync("acme", "+33612345678")));
        Assert.Equal(alan, await ContactOfAsync("acme", await SmsAsync("acme", "+33462532773")));
        Assert.Equal(3, await App.InTenantAsync("acme", db => db.Contacts.CountAsync()));
    }

    [Fact]
    public async Task Merging_moves_the_items_and_identities_to_the_target_and_deletes_the_source()
    {
        var byMail = await ConversationAsync("acme", "ada@example.com", "Ada Lovelace");
        var smsItem = await SmsAsync("acme", "+33611223344");
        var smsContact = await ContactOfAsync("acme", smsItem);
        var target = await ContactOfAsync("acme", byMail);
        var agent = await StaffAsync();

        var merged = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/contacts/{target}/merge", new { from = smsContact });

        Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        var detail = await BodyAsync(merged);
        Assert.Equal("+33611223344", detail.GetProperty("contact").GetProperty("phone").GetString());
        Assert.Equal("ada@example.com", detail.GetProperty("contact").GetProperty("email").GetString());
        Assert.Equal([smsItem, byMail], detail.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync($"/api/v1/tenants/acme/contacts/{smsContact}")).StatusCode);

        // The moved item says so in its trail, and its version moved (open consoles redraw).
        var item = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{smsItem}");
        Assert.Contains(item.GetProperty("changes").EnumerateArray(), c => c.GetProperty("field").GetString() == "contact" && c.GetProperty("to").GetString() == target.ToString());
        Assert.Equal(2, item.GetProperty("item").GetProperty("version").GetInt32());

        // The person's next SMS is theirs: it finds the merged contact by the phone it took over.
        var next = await SmsAsync("acme", "+33611223344", "Still dripping");
        Assert.Equal(target, await ContactOfAsync("acme", next));

        await using var scope = App.Services.CreateAsyncScope();
        var audit = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().AuditEvents.SingleAsync(e => e.Action == "contact-merged");
        Assert.Equal(("agent2@prodesk.test", $"contact {target}", (await App.TenantAsync("acme")).Id), (audit.ActorName, audit.Target, audit.TenantId!.Value));
        Assert.Contains($"from contact {smsContact}; 1 item(s) moved; took phone", audit.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Merging_two_contacts_that_each_have_an_email_keeps_the_sources_so_the_persons_next_mail_joins_the_target()
    {
        var target = await ContactOfAsync("acme", await ConversationAsync("acme", "ada@example.com", "Ada Lovelace"));
        var work = await ContactOfAsync("acme", await ConversationAsync("acme", "ada@engines.example", "Ada (work)"));
        var phone = await ContactOfAsync("acme", await SmsAsync("acme", "+33611223344"));
        var agent = await StaffAsync();
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{phone}", new { name = "Ada mobile", phone = "+33611223344", email = "ada@home.example" })).StatusCode);
        // The phone contact first takes the work contact, so the chain of further identities has to travel twice.
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/contacts/{phone}/merge", new { from = work })).StatusCode);

        var merged = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/contacts/{target}/merge", new { from = phone });

        Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        var contact = (await BodyAsync(merged)).GetProperty("contact");
        Assert.Equal(("ada@example.com", "+33611223344"), (contact.GetProperty("email").GetString(), contact.GetProperty("phone").GetString()));
        Assert.Equal(["ada@engines.example", "ada@home.example"], contact.GetProperty("otherEmails").EnumerateArray().Select(e => e.GetString()).Order());
        Assert.Equal(3, (await BodyAsync(merged)).GetProperty("items").GetArrayLength());

        // Mail from either older address joins the merged contact instead of opening a new one.
        Assert.Equal(target, await ContactOfAsync("acme", await ConversationAsync("acme", "Ada@Engines.example", "Ada")));
        Assert.Equal(target, await ContactOfAsync("acme", await ConversationAsync("acme", "ada@home.example", "Ada")));
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.Contacts.CountAsync()));

        // Staff find the person by it, and no other contact can take it.
        var found = await agent.JsonAsync("/api/v1/tenants/acme/contacts?q=engines");
        Assert.Equal([target], found.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetGuid()));
        var grace = await ContactOfAsync("acme", await ConversationAsync("acme", "grace@example.com", "Grace"));
        var taken = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{grace}", new { name = "Grace", email = "ada@engines.example" });
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal(("email", target), ((await BodyAsync(taken)).GetProperty("field").GetString(), (await BodyAsync(taken)).GetProperty("contactId").GetGuid()));

        await using var scope = App.Services.CreateAsyncScope();
        var audit = await scope.ServiceProvider.GetRequiredService<ProDeskDbContext>().AuditEvents.Where(e => e.Action == "contact-merged" && e.Target == $"contact {target}").SingleAsync();
        Assert.Contains("kept its email as a further identity", audit.Details, StringComparison.Ordinal);
        Assert.DoesNotContain("@", audit.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Staff_set_a_contacts_further_emails_and_phones_which_then_find_the_person()
    {
        var ada = await ContactOfAsync("acme", await ConversationAsync("acme", "ada@example.com", "Ada"));
        var grace = await ContactOfAsync("acme", await ConversationAsync("acme", "grace@example.com", "Grace"));
        var agent = await StaffAsync();

        var invalid = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{ada}", new { name = "Ada", email = "ada@example.com", otherEmails = new[] { "ada@work.example", "not an address" }, otherPhones = new[] { "call me" } });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(["otherEmails[1]", "otherPhones[0]"], (await BodyAsync(invalid)).GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());

        var taken = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{ada}", new { name = "Ada", email = "ada@example.com", otherEmails = new[] { "GRACE@example.com" } });
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        Assert.Equal(("otherEmails", grace), ((await BodyAsync(taken)).GetProperty("field").GetString(), (await BodyAsync(taken)).GetProperty("contactId").GetGuid()));

        // acme is in Paris: a national number is completed as its texts arrive; the primary address is not repeated.
        var set = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{ada}", new { name = "Ada", email = "ada@example.com", otherEmails = new[] { "Ada@Work.example", "ada@example.com" }, otherPhones = new[] { "06 12 34 56 78" } });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var contact = (await BodyAsync(set)).GetProperty("contact");
        Assert.Equal(["ada@work.example"], contact.GetProperty("otherEmails").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["+33612345678"], contact.GetProperty("otherPhones").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(ada, await ContactOfAsync("acme", await SmsAsync("acme", "+33612345678")));

        // A save that leaves the lists out keeps them; an empty list clears them, and the address is free again.
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{ada}", new { name = "Ada L.", email = "ada@example.com" })).StatusCode);
        Assert.Equal(ada, await ContactOfAsync("acme", await ConversationAsync("acme", "ada@work.example", "Ada")));
        var cleared = await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{ada}", new { name = "Ada L.", email = "ada@example.com", otherEmails = Array.Empty<string>() });
        Assert.Equal(0, (await BodyAsync(cleared)).GetProperty("contact").GetProperty("otherEmails").GetArrayLength());
        Assert.NotEqual(ada, await ContactOfAsync("acme", await ConversationAsync("acme", "ada@work.example", "Ada")));
    }

    [Fact]
    public async Task A_contact_cannot_be_merged_with_itself_or_with_another_tenants_contact()
    {
        var acme = await ContactOfAsync("acme", await ConversationAsync("acme", "ada@example.com", "Ada"));
        var northwindItem = await ConversationAsync("northwind", "bob@example.com", "Bob");
        var northwind = await ContactOfAsync("northwind", northwindItem);
        // agent2 serves both tenants: only the route's tenant counts.
        var agent = await StaffAsync("agent2@prodesk.test");

        var itself = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/contacts/{acme}/merge", new { from = acme });
        Assert.Equal(HttpStatusCode.BadRequest, itself.StatusCode);
        Assert.True((await BodyAsync(itself)).GetProperty("errors").TryGetProperty("from", out _));

        foreach (var (path, from) in new[]
        {
            ($"/api/v1/tenants/acme/contacts/{acme}/merge", northwind),
            ($"/api/v1/tenants/acme/contacts/{northwind}/merge", acme),
            ($"/api/v1/tenants/northwind/contacts/{northwind}/merge", acme),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await agent.PostAsJsonAsync(path, new { from })).StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync($"/api/v1/tenants/acme/contacts/{northwind}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{northwind}", new { name = "Intruder" })).StatusCode);
        var still = await agent.JsonAsync($"/api/v1/tenants/northwind/contacts/{northwind}");
        Assert.Equal("Bob", still.GetProperty("contact").GetProperty("name").GetString());
        Assert.Equal([northwindItem], still.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));

        // Client users and integration clients are not staff: the contacts of their own tenant are not theirs to see.
        Assert.Equal(HttpStatusCode.NotFound, (await (await App.IntegrationClientAsync("acme")).GetAsync("/api/v1/tenants/acme/contacts")).StatusCode);
    }
}
