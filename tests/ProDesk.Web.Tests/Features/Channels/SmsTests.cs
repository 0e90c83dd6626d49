using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ProDesk.Data.Channels;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.Channels.Sms;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// SMS and WhatsApp as Twilio delivers them (signed webhooks) and as agents answer them (Twilio's
/// Messages API, here a stand-in on loopback that speaks its wire format).
/// </summary>
public sealed class SmsTests(ProDeskApp app) : PostgresTest(app)
{
    private const string AcmeToken = "demo-acme-sms-auth-token";
    private const string MerlionToken = "demo-merlion-sms-auth-token";

    private FakeTwilio _twilio = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _twilio = await FakeTwilio.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await _twilio.DisposeAsync();
        await base.DisposeAsync();
    }

    private static Dictionary<string, string> Sms(string from = "+15551230001", string body = "My heater is broken", string? sid = null) => new()
    {
        ["ToCountry"] = "US",
        ["SmsMessageSid"] = sid ??= "SM" + Guid.NewGuid().ToString("N"),
        ["NumMedia"] = "0",
        ["SmsSid"] = sid,
        ["SmsStatus"] = "received",
        ["Body"] = body,
        ["To"] = "+15550100001",
        ["NumSegments"] = "1",
        ["MessageSid"] = sid,
        ["AccountSid"] = "AC00000000000000000000000000000000",
        ["From"] = from,
        ["ApiVersion"] = "2010-04-01",
    };

    /// <summary>Posts <paramref name="form"/> as Twilio does, signed for <paramref name="signedUrl"/> (the URL called, by default) with <paramref name="token"/>.</summary>
    private static async Task<HttpResponseMessage> WebhookAsync(
        WebApplicationFactory<Program> host, Dictionary<string, string> form, string slug = "acme", string token = AcmeToken, string? signedUrl = null, string? signature = null, bool multipart = false)
    {
        var path = $"/channels/sms/{slug}/twilio";
        HttpContent content = new FormUrlEncodedContent(form);
        if (multipart)
        {
            var parts = new MultipartFormDataContent();
            foreach (var (name, value) in form)
            {
                parts.Add(new StringContent(value), name);
            }

            content = parts;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add(TwilioSignature.HeaderName, signature ?? TwilioSignature.Compute(signedUrl ?? $"http://localhost{path}", form, token));
        return await host.CreateClient().SendAsync(request);
    }

    private Task<List<WorkItem>> ItemsAsync(string slug = "acme") =>
        App.InTenantAsync(slug, db => db.WorkItems.AsNoTracking().Include(w => w.Messages.OrderBy(m => m.CreatedAt)).OrderBy(w => w.CreatedAt).ToListAsync());

    private WebApplicationFactory<Program> WithTwilio(bool configured = true, string? publicBaseUrl = null) => App.WithWebHostBuilder(b =>
    {
        b.UseSetting("Sms:BaseUrl", _twilio.BaseUrl.ToString());
        if (publicBaseUrl is not null)
        {
            // Where customers reach the desk; Twilio's inbound webhooks are still signed over the URL as called (no proxy).
            b.UseSetting("ProDesk:PublicBaseUrl", publicBaseUrl);
        }

        if (configured)
        {
            b.UseSetting("Sms:AccountSid", FakeTwilio.AccountSid);
            b.UseSetting("Sms:AuthToken", FakeTwilio.AuthToken);
        }
    });

    /// <summary>A text comes in, an agent answers it, the dispatcher sends the answer: the outbound row as it ended.</summary>
    private async Task<OutboundMessage> ReplyAndSendAsync(WebApplicationFactory<Program> host, Dictionary<string, string> inbound, string reply)
    {
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, inbound)).StatusCode);
        var item = (await ItemsAsync()).Last();
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{item.Id}/replies", new { body = reply })).EnsureSuccessStatusCode();
        await host.Services.GetRequiredService<OutboundDispatcher>().SendDueAsync(CancellationToken.None);
        return await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().SingleAsync(o => o.WorkItemId == item.Id));
    }

    [Fact]
    public async Task A_signed_text_becomes_a_conversation_with_its_media_listed()
    {
        var form = Sms(body: "Water everywhere\nPlease come today");
        form["NumMedia"] = "2";
        form["MediaUrl0"] = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1";
        form["MediaContentType0"] = "image/jpeg";
        form["MediaUrl1"] = "javascript:alert(1)";

        var response = await WebhookAsync(App, form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/xml", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("<Response/>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var item = Assert.Single(await ItemsAsync());
        Assert.Equal(("sms", "Water everywhere"), (item.Channel, item.Subject));
        var message = Assert.Single(item.Messages);
        Assert.Equal("+15551230001", message.FromAddress);
        Assert.Equal("Water everywhere\nPlease come today\n\nMedia:\n- https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1 (image/jpeg)", message.Body);
        var contact = await App.InTenantAsync("acme", db => db.Contacts.AsNoTracking().SingleAsync(c => c.Id == item.ContactId));
        Assert.Equal("+15551230001", contact.Phone);
    }

    [Fact]
    public async Task Twilios_retries_of_a_message_store_it_once()
    {
        var form = Sms(sid: "SM0123456789abcdef0123456789abcdef");
        var responses = await Task.WhenAll(WebhookAsync(App, form), WebhookAsync(App, form));
        var again = await WebhookAsync(App, form);

        Assert.All([.. responses, again], r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(Assert.Single(await ItemsAsync()).Messages);

        // One SID is one message in Twilio's namespace, whether it says SMS or WhatsApp.
        var asWhatsApp = Sms(from: "whatsapp:+15551230001", body: "the same message again", sid: "SM0123456789abcdef0123456789abcdef");
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(App, asWhatsApp)).StatusCode);
        Assert.Single(Assert.Single(await ItemsAsync()).Messages);
    }

    [Fact]
    public async Task A_captured_webhook_re_split_under_its_own_signature_is_not_a_new_message()
    {
        var form = Sms(sid: "SM0123456789abcdef0123456789abcdef");
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(App, form)).StatusCode);

        // The signature joins names and values with nothing between: "MessageSid=SM…&NumMedia=0" signs as
        // "MessageSid=SM…NumMedia0" does, a sid the dedupe had never seen.
        var resplit = new Dictionary<string, string>(form) { ["MessageSid"] = form["MessageSid"] + "NumMedia0" };
        resplit.Remove("NumMedia");
        var signature = TwilioSignature.Compute("http://localhost/channels/sms/acme/twilio", form, AcmeToken);
        Assert.Equal(signature, TwilioSignature.Compute("http://localhost/channels/sms/acme/twilio", resplit, AcmeToken));

        var replayed = await WebhookAsync(App, resplit, signature: signature);

        Assert.Equal(HttpStatusCode.BadRequest, replayed.StatusCode);
        Assert.Single(Assert.Single(await ItemsAsync()).Messages);
    }

    [Fact]
    public async Task Texts_from_the_same_number_continue_its_open_conversation_per_channel()
    {
        await WebhookAsync(App, Sms(body: "Heater broken"));
        await WebhookAsync(App, Sms(body: "Still cold"));
        // WhatsApp from the same phone: the same contact, its own conversation, named as the profile says.
        var whatsapp = Sms(from: "whatsapp:+15551230001", body: "Sent you a photo on WhatsApp");
        whatsapp["ProfileName"] = "Marie";
        whatsapp["To"] = "whatsapp:+15550100001";
        await WebhookAsync(App, whatsapp);

        var items = await ItemsAsync();
        Assert.Equal(["sms", "whatsapp"], items.Select(i => i.Channel));
        Assert.Equal(["Heater broken", "Still cold"], items[0].Messages.Select(m => m.Body));
        Assert.Equal("Marie", Assert.Single(items[1].Messages).AuthorName);
        Assert.Equal("+15551230001", items[1].Messages[0].FromAddress);
        Assert.Equal(items[0].ContactId, items[1].ContactId);

        // A closed conversation stays closed: the next text starts a new one, which follows it up.
        var supervisor = App.CreateClient().WithBearer((await App.PatAsync("supervisor@prodesk.test")).Secret);
        foreach (var status in new[] { "Solved", "Closed" })
        {
            (await supervisor.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{items[0].Id}/status", new { status })).EnsureSuccessStatusCode();
        }

        await WebhookAsync(App, Sms(body: "It broke again"));
        var after = await ItemsAsync();
        Assert.Equal(3, after.Count);
        var followUp = Assert.Single(after, i => i.Messages.Any(m => m.Body == "It broke again"));
        Assert.Equal(("sms", (Guid?)items[0].Id), (followUp.Channel, followUp.FollowUpOfId));
        // The open WhatsApp conversation follows nothing, and the follow-up's next text continues the follow-up.
        Assert.Null(after.Single(i => i.Channel == "whatsapp").FollowUpOfId);
        await WebhookAsync(App, Sms(body: "Now it is worse"));
        Assert.Equal(["It broke again", "Now it is worse"], (await ItemsAsync()).Single(i => i.Id == followUp.Id).Messages.OrderBy(m => m.CreatedAt).Select(m => m.Body));
    }

    [Fact]
    public async Task A_subject_made_of_a_texts_first_line_loses_its_bidi_controls_and_the_body_keeps_them()
    {
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(App, Sms(body: "\u202Efdp.exe\u202C invoice\nשלום"))).StatusCode);
        var item = Assert.Single(await ItemsAsync());
        Assert.Equal("fdp.exe invoice", item.Subject);
        Assert.Equal("\u202Efdp.exe\u202C invoice\nשלום", item.Messages[0].Body);
    }

    [Fact]
    public async Task A_text_reaches_the_contact_whose_number_was_typed_with_spaces_or_a_trunk_zero()
    {
        var integration = await App.IntegrationClientAsync("acme");
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        async Task<Guid> ContactAsync(string email, string phone)
        {
            var created = await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = email, subject = "By mail", body = "Hello", externalId = email });
            var itemId = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
            var contactId = (await ItemsAsync()).Single(i => i.Id == itemId).ContactId;
            (await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{contactId}", new { name = email, email, phone })).EnsureSuccessStatusCode();
            return contactId!.Value;
        }

        var abigaelle = await ContactAsync("abigaelle@example.fr", "+33 6 08 64 41 30");
        var oliver = await ContactAsync("oliver@example.co.uk", "+44 (0) 20 7946 0958");

        // As Twilio sends them, in E.164; the tenant named in capitals as an admin may have pasted the webhook URL.
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(App, Sms(from: "+33608644130", body: "C'est Abigaëlle"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(App, Sms(from: "+442079460958", body: "Oliver here"), slug: "ACME")).StatusCode);

        var texts = (await ItemsAsync()).Where(i => i.Channel == "sms").ToDictionary(i => i.Messages[0].Body, i => i.ContactId);
        Assert.Equal(abigaelle, texts["C'est Abigaëlle"]);
        Assert.Equal(oliver, texts["Oliver here"]);
        Assert.Equal(2, await App.InTenantAsync("acme", db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.Contacts)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_burst_of_texts_from_one_number_arrives_whole_in_one_conversation(bool conversationOpen)
    {
        if (conversationOpen)
        {
            Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(App, Sms(from: "+15551230077", body: "first"))).StatusCode);
        }

        // Several photos sent at once arrive as concurrent webhooks; Twilio does not retry a failed one.
        var responses = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => WebhookAsync(App, Sms(from: "+15551230077", body: $"photo {i}"))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var item = Assert.Single(await ItemsAsync());
        Assert.Equal(conversationOpen ? 9 : 8, item.Messages.Count);
    }

    [Fact]
    public async Task Nul_and_terminal_control_characters_are_dropped_from_a_text_and_the_senders_name()
    {
        var form = Sms(body: "a\0b\u001b[31mc\r\nnext line\tend");
        form["ProfileName"] = "Ma\0rie\u0007";

        // A form field may carry any byte as multipart; PostgreSQL text cannot hold NUL.
        var response = await WebhookAsync(App, form, multipart: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = Assert.Single(Assert.Single(await ItemsAsync()).Messages);
        Assert.Equal("ab[31mc\nnext line\tend", message.Body);
        Assert.Equal("Marie", message.AuthorName);
    }

    [Theory]
    [InlineData("+15557770004\r\nX: y")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("whatsapp:")]
    public async Task A_sender_that_is_no_phone_number_short_code_or_sender_id_is_refused_naming_from(string from)
    {
        var response = await WebhookAsync(App, Sms(from: from));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("From", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await ItemsAsync());
    }

    [Fact]
    public async Task A_body_that_is_no_form_or_too_large_is_refused_as_such_not_as_a_bad_signature()
    {
        var json = await App.CreateClient().PostAsJsonAsync("/channels/sms/acme/twilio", new { From = "+15551230001", Body = "hi" });
        var large = await WebhookAsync(App, Sms(body: new string('x', 70_000)));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.Contains("Content-Type", (await json.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Empty(await ItemsAsync());
    }

    [Fact]
    public async Task A_text_from_the_tenants_own_number_is_not_taken_in()
    {
        var response = await WebhookAsync(App, Sms(from: "+15550100001", body: "echo of our own reply"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await ItemsAsync());
    }

    [Fact]
    public async Task Unsigned_wrongly_signed_and_other_tenants_webhooks_are_refused_alike()
    {
        var refused = new[]
        {
            await WebhookAsync(App, Sms(), signature: "bm90IGEgc2lnbmF0dXJl"),
            await WebhookAsync(App, Sms(), token: "not-the-token"),
            // Acme's valid signature, replayed to merlion's webhook.
            await WebhookAsync(App, Sms(), slug: "merlion", signedUrl: "http://localhost/channels/sms/acme/twilio"),
            // Signed with acme's token for merlion's URL: a tenant's token is good for its own webhook only.
            await WebhookAsync(App, Sms(), slug: "merlion", token: AcmeToken),
            await WebhookAsync(App, Sms(), slug: "no-such-tenant"),
        };
        using var unsigned = new HttpRequestMessage(HttpMethod.Post, "/channels/sms/acme/twilio") { Content = new FormUrlEncodedContent(Sms()) };
        var missing = await App.CreateClient().SendAsync(unsigned);

        HttpResponseMessage[] all = [.. refused, missing];
        Assert.All(all, r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        var answers = await Task.WhenAll(all.Select(async r => JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone()));
        Assert.Single(answers.Select(a => (a.GetProperty("title").GetString(), a.GetProperty("detail").GetString())).Distinct());
        Assert.Empty(await ItemsAsync());
        Assert.Empty(await ItemsAsync("merlion"));
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(App, Sms(), slug: "merlion", token: MerlionToken)).StatusCode);
    }

    [Fact]
    public async Task Behind_a_proxy_the_signature_covers_the_public_url()
    {
        using var host = App.WithWebHostBuilder(b => b.UseSetting("Channels:PublicBaseUrl", "https://desk.example.com/"));

        var atPublicUrl = await WebhookAsync(host, Sms(body: "via proxy"), signedUrl: "https://desk.example.com/channels/sms/acme/twilio");
        var atInternalUrl = await WebhookAsync(host, Sms(body: "internal"));

        Assert.Equal(HttpStatusCode.OK, atPublicUrl.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, atInternalUrl.StatusCode);
        Assert.Equal("via proxy", Assert.Single(await ItemsAsync()).Subject);
    }

    [Fact]
    public async Task An_agents_reply_goes_out_from_the_tenants_number_to_the_contact()
    {
        using var host = WithTwilio();

        var sent = await ReplyAndSendAsync(host, Sms(from: "+15551230001"), "A technician comes at 10.");

        Assert.Equal(OutboundState.Sent, sent.State);
        var request = Assert.Single(_twilio.Requests);
        Assert.Equal($"/2010-04-01/Accounts/{FakeTwilio.AccountSid}/Messages.json", request.Path);
        Assert.Equal("+15550100001", request.Form["From"]);
        Assert.Equal("+15551230001", request.Form["To"]);
        Assert.Equal("A technician comes at 10.", request.Form["Body"]);
    }

    [Fact]
    public async Task A_whatsapp_reply_goes_out_on_whatsapp()
    {
        using var host = WithTwilio();
        var inbound = Sms(from: "whatsapp:+15551230002", body: "Hello on WhatsApp");
        inbound["To"] = "whatsapp:+15550100001";

        var sent = await ReplyAndSendAsync(host, inbound, "Hello back");

        Assert.Equal(("whatsapp", OutboundState.Sent), (sent.Channel, sent.State));
        var request = Assert.Single(_twilio.Requests);
        Assert.Equal(("whatsapp:+15550100001", "whatsapp:+15551230002"), (request.Form["From"], request.Form["To"]));
    }

    [Fact]
    public async Task An_invalid_number_fails_at_once_without_retries()
    {
        using var host = WithTwilio();

        var failed = await ReplyAndSendAsync(host, Sms(from: FakeTwilio.InvalidNumber), "Hello?");

        Assert.Equal((OutboundState.Failed, 1), (failed.State, failed.Attempts));
        Assert.Contains("21211", failed.LastError, StringComparison.Ordinal);
        Assert.Single(_twilio.Requests);
    }

    [Fact]
    public async Task A_gateway_error_is_retried_later()
    {
        using var host = WithTwilio();
        var before = DateTime.UtcNow;

        var pending = await ReplyAndSendAsync(host, Sms(from: FakeTwilio.BrokenNumber), "Hello?");

        Assert.Equal((OutboundState.Pending, 1), (pending.State, pending.Attempts));
        Assert.Contains("500", pending.LastError, StringComparison.Ordinal);
        Assert.InRange(pending.NextAttemptAt, before.AddSeconds(25), before.AddSeconds(60));
        // One request: the HTTP client does not retry a POST behind the dispatcher's back.
        Assert.Single(_twilio.Requests);
    }

    [Fact]
    public async Task Without_a_configured_gateway_a_reply_fails_with_the_reason()
    {
        using var host = WithTwilio(configured: false);

        var failed = await ReplyAndSendAsync(host, Sms(from: "+15551230003"), "Hello?");

        Assert.Equal(OutboundState.Failed, failed.State);
        Assert.Contains("Sms:AccountSid", failed.LastError, StringComparison.Ordinal);
        Assert.Empty(_twilio.Requests);
    }

    /// <summary>A contact reached by mail whose phone an agent set to <paramref name="phone"/>; returns its id.</summary>
    private async Task<Guid> ContactWithPhoneAsync(HttpClient agent, string email, string phone)
    {
        var integration = await App.IntegrationClientAsync("acme");
        var created = await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = email, subject = "By mail", body = "Hello", externalId = email });
        var itemId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        var contactId = (await ItemsAsync()).Single(i => i.Id == itemId).ContactId!.Value;
        (await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{contactId}", new { name = email, email, phone })).EnsureSuccessStatusCode();
        return contactId;
    }

    [Theory]
    [InlineData("+33699990000")]
    [InlineData("whatsapp:+33699990000")]
    public async Task A_reply_goes_to_the_number_that_texted_after_its_contact_was_merged_into_another(string from)
    {
        using var host = WithTwilio();
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var abigaelle = await ContactWithPhoneAsync(agent, "abigaelle@example.fr", "+33608644130");
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, Sms(from: from, body: "Mon code ne marche pas"))).StatusCode);
        var texted = (await ItemsAsync()).Single(i => i.Channel != "api");
        // "The same person came in by mail and by phone": the texting contact is merged into the one that has a phone.
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/contacts/{abigaelle}/merge", new { from = texted.ContactId })).EnsureSuccessStatusCode();

        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{texted.Id}/replies", new { body = "Votre code est 4411." })).EnsureSuccessStatusCode();
        await host.Services.GetRequiredService<OutboundDispatcher>().SendDueAsync(CancellationToken.None);

        var request = Assert.Single(_twilio.Requests);
        Assert.Equal(PhoneNumbers.ToTwilioAddress(texted.Channel, "+33699990000"), request.Form["To"]);
    }

    [Fact]
    public async Task A_reply_goes_to_the_number_that_texted_after_an_agent_changed_the_contacts_phone()
    {
        using var host = WithTwilio();
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, Sms(from: "+33699990001", body: "Any news?"))).StatusCode);
        var texted = Assert.Single(await ItemsAsync());
        (await agent.PutAsJsonAsync($"/api/v1/tenants/acme/contacts/{texted.ContactId}", new { name = "Adhémar", phone = "+33600000001" })).EnsureSuccessStatusCode();

        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{texted.Id}/replies", new { body = "Tomorrow." })).EnsureSuccessStatusCode();
        await host.Services.GetRequiredService<OutboundDispatcher>().SendDueAsync(CancellationToken.None);

        Assert.Equal("+33699990001", Assert.Single(_twilio.Requests).Form["To"]);
    }

    [Theory]
    [InlineData("no gateway", "+15551230004", "Sms:AccountSid")]
    [InlineData("no number", "+15551230005", "no SMS number")]
    [InlineData("not E.164", "ACME", "E.164")]
    public async Task A_text_reply_that_cannot_be_sent_leaves_the_item_open_with_its_response_due_and_says_why(string why, string from, string reason)
    {
        using var host = WithTwilio(configured: why != "no gateway");
        if (why == "no number")
        {
            await App.InTenantAsync("acme", db => db.ChannelSettings.ExecuteUpdateAsync(s => s.SetProperty(c => c.SmsNumber, (string?)null)));
        }

        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, Sms(from: from))).StatusCode);
        var id = Assert.Single(await ItemsAsync()).Id;
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "On our way." })).EnsureSuccessStatusCode();
        await host.Services.GetRequiredService<OutboundDispatcher>().SendDueAsync(CancellationToken.None);

        var item = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        Assert.Equal("Open", item.GetProperty("item").GetProperty("status").GetString());
        // Nobody was answered: the first response is still owed, and nothing waits on the customer.
        Assert.True(item.GetProperty("sla").GetProperty("dueAt").TryGetProperty("firstResponse", out _));
        Assert.Equal(JsonValueKind.Null, item.GetProperty("sla").GetProperty("pausedSince").ValueKind);
        var reply = item.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("kind").GetString() == "Reply");
        Assert.Equal("failed", reply.GetProperty("delivery").GetString());
        Assert.Contains(reason, reply.GetProperty("deliveryError").GetString(), StringComparison.Ordinal);
        Assert.Empty(_twilio.Requests);
    }

    [Theory]
    [InlineData("STOP")]
    [InlineData(" stop ")]
    [InlineData("Unsubscribe")]
    [InlineData("quit\n")]
    [InlineData("HELP")]
    [InlineData("info")]
    [InlineData("START")]
    public async Task A_keyword_text_opens_no_item_and_is_kept_once(string body)
    {
        var form = Sms(from: "+15551230020", body: body);

        var first = await WebhookAsync(App, form);
        var again = await WebhookAsync(App, form);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, again.StatusCode));
        Assert.EndsWith("<Response/>", await first.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await ItemsAsync());
        var kept = Assert.Single(await App.InTenantAsync("acme", db => db.SmsKeywordTexts.AsNoTracking().ToListAsync()));
        Assert.Equal((form["MessageSid"], "+15551230020", body.Trim().ToUpperInvariant()), (kept.MessageSid, kept.Number, kept.Keyword));
    }

    [Theory]
    [InlineData("+15551230021", "stop please")]
    [InlineData("+15551230021", "STOP it, the heater is leaking")]
    [InlineData("whatsapp:+15551230021", "STOP")]
    public async Task Words_around_a_keyword_and_whatsapp_texts_are_a_customers_message(string from, string body)
    {
        var response = await WebhookAsync(App, Sms(from: from, body: body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, Assert.Single(Assert.Single(await ItemsAsync()).Messages).Body);
        Assert.Empty(await App.InTenantAsync("acme", db => db.SmsKeywordTexts.AsNoTracking().ToListAsync()));
    }

    [Fact]
    public async Task After_stop_a_reply_by_text_is_refused_at_once_with_the_reason_until_the_customer_texts_start()
    {
        using var host = WithTwilio();
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, Sms(from: "+15551230022", body: "Is my order shipped?"))).StatusCode);
        var id = Assert.Single(await ItemsAsync()).Id;
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);

        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, Sms(from: "+15551230022", body: "Stop"))).StatusCode);
        var refused = await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "It left today." });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("opted-out", problem.GetProperty("reason").GetString());
        Assert.Contains("the customer opted out by texting STOP", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().ToListAsync()));
        // The agent sees why: a note on the item, and a notice over the reply box.
        var item = Assert.Single(await ItemsAsync());
        Assert.Equal("Open", item.Status.ToString());
        var note = Assert.Single(item.Messages, m => m.Kind == MessageKind.Note);
        Assert.Contains("texted STOP from +15551230022", note.Body, StringComparison.Ordinal);
        var page = await (await host.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{id}");
        Assert.Contains("data-testid=\"sms-opted-out\"", page, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, Sms(from: "+15551230022", body: "START"))).StatusCode);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{id}/replies", new { body = "It left today." })).EnsureSuccessStatusCode();
        await host.Services.GetRequiredService<OutboundDispatcher>().SendDueAsync(CancellationToken.None);

        Assert.Equal("+15551230022", Assert.Single(_twilio.Requests).Form["To"]);
        Assert.Equal(2, Assert.Single(await ItemsAsync()).Messages.Count(m => m.Kind == MessageKind.Note));
        var after = await (await host.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{id}");
        Assert.DoesNotContain("data-testid=\"sms-opted-out\"", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stop_to_one_tenant_leaves_another_tenants_texts_to_the_same_number_alone()
    {
        using var host = WithTwilio();
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, Sms(from: "+15551230023", body: "Hello acme"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, Sms(from: "+15551230023", body: "STOP"), slug: "merlion", token: MerlionToken)).StatusCode);

        var sent = await App.InTenantAsync("acme", db => db.WorkItems.AsNoTracking().SingleAsync());
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{sent.Id}/replies", new { body = "Hello back" })).EnsureSuccessStatusCode();
        await host.Services.GetRequiredService<OutboundDispatcher>().SendDueAsync(CancellationToken.None);

        Assert.Equal("+15551230023", Assert.Single(_twilio.Requests).Form["To"]);
        Assert.Empty(await ItemsAsync("merlion"));
    }

    private const string PublicDesk = "https://desk.example.com";

    /// <summary>A host whose texts ask Twilio for status callbacks at <see cref="PublicDesk"/>.</summary>
    private WebApplicationFactory<Program> WithTwilioCallbacks() => WithTwilio(publicBaseUrl: PublicDesk);

    /// <summary>Posts Twilio's status callback to <paramref name="callback"/> (the StatusCallback a text was sent with), signed over it with <paramref name="token"/>.</summary>
    private static async Task<HttpResponseMessage> StatusCallbackAsync(
        WebApplicationFactory<Program> host, string callback, string status, string? errorCode = null, string token = FakeTwilio.AuthToken, string? signedUrl = null, string? slug = null)
    {
        var form = new Dictionary<string, string>
        {
            ["SmsSid"] = "SM0c1d2e3f", ["SmsStatus"] = status, ["MessageStatus"] = status, ["To"] = "+15551230030", ["MessageSid"] = "SM0c1d2e3f",
            ["AccountSid"] = FakeTwilio.AccountSid, ["From"] = "+15550100001", ["ApiVersion"] = "2010-04-01",
        };
        if (errorCode is not null)
        {
            form["ErrorCode"] = errorCode;
        }

        var uri = new Uri(callback);
        var path = slug is null ? uri.PathAndQuery : uri.PathAndQuery.Replace("/acme/", $"/{slug}/", StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add(TwilioSignature.HeaderName, TwilioSignature.Compute(signedUrl ?? PublicDesk + path, form, token));
        return await host.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task A_text_asks_twilio_for_its_status_and_late_or_repeated_callbacks_never_move_it_back()
    {
        using var host = WithTwilioCallbacks();
        var sent = await ReplyAndSendAsync(host, Sms(from: "+15551230030"), "Your parcel is on its way.");
        var callback = Assert.Single(_twilio.Requests).Form["StatusCallback"];
        Assert.Equal($"{PublicDesk}/channels/sms/acme/twilio/status?message={sent.Id:N}", callback);

        foreach (var status in new[] { "queued", "sent", "delivered", "sent", "delivered", "queued" })
        {
            Assert.Equal(HttpStatusCode.NoContent, (await StatusCallbackAsync(host, callback, status)).StatusCode);
        }

        var row = await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().SingleAsync(o => o.Id == sent.Id));
        Assert.Equal((OutboundState.Sent, "delivered"), (row.State, row.ProviderStatus));
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var reply = (await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{sent.WorkItemId}")).GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("kind").GetString() == "Reply");
        Assert.Equal(("sent", "delivered"), (reply.GetProperty("delivery").GetString(), reply.GetProperty("deliveryStatus").GetString()));
    }

    [Fact]
    public async Task An_undelivered_text_shows_beside_the_reply_with_twilios_error_and_reopens_the_item()
    {
        using var host = WithTwilioCallbacks();
        var sent = await ReplyAndSendAsync(host, Sms(from: "+15551230031"), "Your parcel is on its way.");
        var callback = Assert.Single(_twilio.Requests).Form["StatusCallback"];
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        Assert.Equal("Pending", (await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{sent.WorkItemId}")).GetProperty("item").GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await StatusCallbackAsync(host, callback, "sent")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await StatusCallbackAsync(host, callback, "undelivered", errorCode: "30003")).StatusCode);
        // Twilio repeats itself, and a late "delivered" of another part does not hide the failure.
        Assert.Equal(HttpStatusCode.NoContent, (await StatusCallbackAsync(host, callback, "undelivered", errorCode: "30003")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await StatusCallbackAsync(host, callback, "delivered")).StatusCode);

        var item = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{sent.WorkItemId}");
        Assert.Equal("Open", item.GetProperty("item").GetProperty("status").GetString());
        var reply = item.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("kind").GetString() == "Reply");
        Assert.Equal(("failed", "undelivered"), (reply.GetProperty("delivery").GetString(), reply.GetProperty("deliveryStatus").GetString()));
        Assert.Equal("the carrier did not deliver it (Twilio error 30003)", reply.GetProperty("deliveryError").GetString());
        var page = await (await host.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{sent.WorkItemId}");
        Assert.Contains("Not delivered: the carrier did not deliver it (Twilio error 30003)", page, StringComparison.Ordinal);
        Assert.Single(item.GetProperty("changes").EnumerateArray(), c => c.GetProperty("field").GetString() == "reply");
    }

    [Fact]
    public async Task Forged_other_tenants_and_malformed_status_callbacks_change_nothing()
    {
        using var host = WithTwilioCallbacks();
        var sent = await ReplyAndSendAsync(host, Sms(from: "+15551230032"), "Hello");
        var callback = Assert.Single(_twilio.Requests).Form["StatusCallback"];

        var forged = new[]
        {
            await StatusCallbackAsync(host, callback, "failed", token: "not-the-token"),
            // The tenant's own inbound token does not sign the provider account's callbacks.
            await StatusCallbackAsync(host, callback, "failed", token: AcmeToken),
            await StatusCallbackAsync(host, callback, "failed", slug: "no-such-tenant"),
            // Acme's valid callback replayed to merlion's route.
            await StatusCallbackAsync(host, callback, "failed", slug: "merlion", signedUrl: callback),
        };
        // Signed for merlion's route, naming acme's text: merlion has no such text.
        var otherTenants = await StatusCallbackAsync(host, callback, "failed", slug: "merlion");
        var malformed = await StatusCallbackAsync(host, callback, "exploded");

        Assert.All(forged, r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Equal(HttpStatusCode.NotFound, otherTenants.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("MessageStatus", (await malformed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var row = await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().SingleAsync(o => o.Id == sent.Id));
        Assert.Equal((OutboundState.Sent, (string?)null), (row.State, row.ProviderStatus));
    }

    [Fact]
    public async Task Without_a_public_url_a_text_asks_for_no_status_callback()
    {
        using var host = WithTwilio();

        await ReplyAndSendAsync(host, Sms(from: "+15551230033"), "Hello");

        Assert.False(Assert.Single(_twilio.Requests).Form.ContainsKey("StatusCallback"));
    }

    [Fact]
    public async Task The_photos_of_an_mms_are_fetched_from_twilio_after_it_is_stored_and_no_other_host_is_called()
    {
        using var host = WithTwilio();
        var media = $"{_twilio.BaseUrl.AbsoluteUri.TrimEnd('/')}/2010-04-01/Accounts/{FakeTwilio.AccountSid}/Messages/MM1/Media";
        var form = Sms(body: "See the leak");
        form["NumMedia"] = "4";
        form["MediaUrl0"] = $"{media}/ME1";
        form["MediaContentType0"] = "image/jpeg";
        form["MediaUrl1"] = $"{media}/{FakeTwilio.MissingMedia}";
        // The stand-in under another name is not the configured Twilio host: never called (the form may name any URL).
        form["MediaUrl2"] = $"{media.Replace("127.0.0.1", "localhost", StringComparison.Ordinal)}/ME2";
        form["MediaUrl3"] = "http://169.254.169.254/latest/meta-data/";

        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, form)).StatusCode);

        var item = Assert.Single(await ItemsAsync());
        var message = Assert.Single(item.Messages);
        // Every link stays in the text, the one Twilio no longer had too.
        Assert.Contains($"{media}/{FakeTwilio.MissingMedia}", message.Body, StringComparison.Ordinal);
        var file = Assert.Single(await App.InTenantAsync("acme", db => db.WorkItemAttachments.AsNoTracking().ToListAsync()));
        Assert.Equal((message.Id, "image/jpeg", "MMS 1.jpeg", (long)FakeTwilio.Photo.Length), (file.WorkItemMessageId, file.ContentType, file.FileName, file.Length));
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        Assert.Equal(FakeTwilio.Photo, await agent.GetByteArrayAsync($"/api/v1/tenants/acme/work-items/{item.Id}/attachments/{file.Id}"));
        Assert.Equal(["ME1", FakeTwilio.MissingMedia], _twilio.MediaRequests.Select(r => r.Media));
        var basic = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{FakeTwilio.AccountSid}:{FakeTwilio.AuthToken}"));
        Assert.All(_twilio.MediaRequests, r => Assert.Equal(basic, r.Authorization));
    }

    [Fact]
    public async Task A_photo_past_the_attachment_allowance_stays_a_link()
    {
        using var host = WithTwilio().WithWebHostBuilder(b => b.UseSetting("Attachments:MaxBytes", "8"));
        var form = Sms(body: "Big photo");
        form["NumMedia"] = "1";
        form["MediaUrl0"] = $"{_twilio.BaseUrl.AbsoluteUri.TrimEnd('/')}/2010-04-01/Accounts/{FakeTwilio.AccountSid}/Messages/MM2/Media/ME3";

        Assert.Equal(HttpStatusCode.OK, (await WebhookAsync(host, form)).StatusCode);

        Assert.Contains("/Media/ME3", Assert.Single(Assert.Single(await ItemsAsync()).Messages).Body, StringComparison.Ordinal);
        Assert.Empty(await App.InTenantAsync("acme", db => db.WorkItemAttachments.AsNoTracking().ToListAsync()));
    }
}
