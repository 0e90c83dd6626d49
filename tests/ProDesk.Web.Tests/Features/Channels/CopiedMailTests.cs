using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AngleSharp.Html.Parser;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using ProDesk.Data.Channels;
using ProDesk.Testing;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// A customer who writes with colleagues on copy gets the agent's answer as a reply-all would send it: to the customer,
/// copied to the colleagues, never to the desk's own addresses; read back from the real SMTP sink.
/// </summary>
public sealed class CopiedMailTests(ProDeskApp app) : PostgresTest(app)
{
    private const string AcmeKey = "demo-acme-inbound-key-0123456789";

    private readonly MailServers _servers = MailServers.FromEnvironment();

    private WebApplicationFactory<Program> WithSmtp() => App.WithWebHostBuilder(b => b
        .UseSetting("Smtp:Host", _servers.Smtp.Host)
        .UseSetting("Smtp:Port", _servers.Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .UseSetting("Smtp:Security", "None"));

    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}@example.org";

    private static MimeMessage Mail(string from, string subject, IEnumerable<string> to, IEnumerable<string> cc)
    {
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(from));
        mail.To.AddRange(to.Select(MailboxAddress.Parse));
        mail.Cc.AddRange(cc.Select(MailboxAddress.Parse));
        mail.Subject = subject;
        mail.MessageId = $"{Guid.NewGuid():N}@mail.example.org";
        mail.Body = new TextPart("plain") { Text = "The printer on floor 2 is jammed again." };
        return mail;
    }

    private static async Task<Guid> PostAsync(HttpClient client, MimeMessage mail)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(mail.ToString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/email/acme/inbound") { Content = content };
        request.Headers.Add(EmailInboundApi.KeyHeader, AcmeKey);
        var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("workItemId").GetGuid();
    }

    private static async Task<List<JsonElement>> MessagesAsync(HttpClient agent, Guid itemId)
    {
        var item = JsonDocument.Parse(await agent.GetStringAsync($"/api/v1/tenants/acme/work-items/{itemId}")).RootElement;
        return [.. item.GetProperty("messages").EnumerateArray().Select(m => m.Clone())];
    }

    private static List<string?> Cc(JsonElement message) => [.. message.GetProperty("cc").EnumerateArray().Select(a => a.GetString())];

    private static bool Says(MimeMessage mail, string words) => (mail.TextBody ?? "").Contains(words, StringComparison.Ordinal);

    private static async Task ReplyAsync(WebApplicationFactory<Program> host, HttpClient agent, Guid itemId, string body)
    {
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body })).EnsureSuccessStatusCode();
        await host.Services.GetRequiredService<OutboundDispatcher>().SendDueAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Colleagues_on_copy_get_the_agents_reply_and_the_desks_own_addresses_do_not()
    {
        using var host = WithSmtp();
        var (marie, lena, jo) = (Unique("marie"), Unique("lena"), Unique("jo"));
        var mail = Mail(marie, "Printer jammed", ["support@acme.test", lena], [jo, "support+billing@acme.test"]);
        mail.Headers.Add("Delivered-To", "helpdesk@acme.test");
        mail.Cc.Add(MailboxAddress.Parse("helpdesk@acme.test"));
        var itemId = await PostAsync(host.CreateClient(), mail);
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);

        var inbound = Assert.Single(await MessagesAsync(agent, itemId));
        Assert.Equal([lena, jo], Cc(inbound));
        // The agent sees where the reply will go before writing it.
        var page = new HtmlParser().ParseDocument(await (await App.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{itemId}"));
        Assert.Equal($"To {marie} · Cc {lena}, {jo}", page.QuerySelector("[data-testid=reply-recipients]")!.TextContent.Trim());

        await ReplyAsync(host, agent, itemId, "A technician is on the way.");

        // Marie's acknowledgment went to her alone (RFC 3834); the reply is the mail with the agent's words.
        var sent = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(marie) && Says(m, "technician"), TimeSpan.FromSeconds(10));
        Assert.Equal([marie], sent.To.Mailboxes.Select(m => m.Address));
        Assert.Equal([lena, jo], sent.Cc.Mailboxes.Select(m => m.Address));
        Assert.Equal(new[] { marie, lena, jo }.Order(StringComparer.Ordinal), sent.EnvelopeTo().Order(StringComparer.Ordinal));
        var reply = (await MessagesAsync(agent, itemId)).Single(m => m.GetProperty("kind").GetString() == "Reply");
        Assert.Equal([lena, jo], Cc(reply));
    }

    [Fact]
    public async Task When_a_colleague_writes_back_the_next_reply_copies_the_colleague_and_still_answers_the_customer()
    {
        using var host = WithSmtp();
        var (marie, lena) = (Unique("marie"), Unique("lena"));
        var itemId = await PostAsync(host.CreateClient(), Mail(marie, "Printer jammed", ["support@acme.test"], [lena]));
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        await ReplyAsync(host, agent, itemId, "Which printer?");
        var first = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(marie) && Says(m, "Which printer"), TimeSpan.FromSeconds(10));

        // Lena answers all: to the desk, Marie on copy, threaded under our reply.
        var answer = Mail(lena, "Re: Printer jammed", ["support@acme.test"], [marie]);
        answer.InReplyTo = first.MessageId;
        Assert.Equal(itemId, await PostAsync(host.CreateClient(), answer));
        await ReplyAsync(host, agent, itemId, "Thanks Lena, on it.");

        var second = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(marie) && Says(m, "on it"), TimeSpan.FromSeconds(10));
        Assert.Equal([marie], second.To.Mailboxes.Select(m => m.Address));
        Assert.Equal([lena], second.Cc.Mailboxes.Select(m => m.Address));
    }

    [Fact]
    public async Task An_integrations_message_from_another_address_is_threaded_but_never_copied_the_agents_answer()
    {
        using var host = WithSmtp();
        var (marie, lena, stranger) = (Unique("marie"), Unique("lena"), Unique("stranger"));
        var itemId = await PostAsync(host.CreateClient(), Mail(marie, "My invoice", ["support@acme.test"], [lena]));
        // The client's CRM names Marie's conversation for a message of someone else (a mapping slip, or a colleague).
        var integration = await App.IntegrationClientAsync("acme");
        var posted = await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations",
            new { from = stranger, subject = "x", body = "Hello from elsewhere.", externalId = "crm-slip-1", conversationId = itemId });
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        Assert.Contains(await MessagesAsync(agent, itemId), m => m.GetProperty("body").GetString() == "Hello from elsewhere.");

        // A reply-all answers whom Marie's mail named; the API message named nobody, so its sender gets nothing.
        var page = new HtmlParser().ParseDocument(await (await App.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{itemId}"));
        Assert.Equal($"To {marie} · Cc {lena}", page.QuerySelector("[data-testid=reply-recipients]")!.TextContent.Trim());
        await ReplyAsync(host, agent, itemId, "Dear Marie, your invoice for account 123-456 is corrected.");
        var sent = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(marie) && Says(m, "123-456"), TimeSpan.FromSeconds(10));
        Assert.Equal([marie], sent.To.Mailboxes.Select(m => m.Address));
        Assert.Equal([lena], sent.Cc.Mailboxes.Select(m => m.Address));
        Assert.DoesNotContain(stranger, sent.EnvelopeTo());
    }

    [Fact]
    public async Task A_copy_that_bounced_for_good_is_left_out_and_acknowledgments_go_to_the_sender_alone()
    {
        using var host = WithSmtp();
        var (marie, lena, gone) = (Unique("marie"), Unique("lena"), Unique("gone"));
        await App.InTenantAsync("acme", db =>
        {
            db.EmailSuppressions.Add(new EmailSuppression { Address = gone, Reason = "bounce 5.1.1", CreatedAt = DateTime.UtcNow });
            return db.SaveChangesAsync();
        });
        var itemId = await PostAsync(host.CreateClient(), Mail(marie, "Printer jammed", ["support@acme.test"], [gone, lena]));
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);

        await ReplyAsync(host, agent, itemId, "A technician is on the way.");

        var sent = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(marie) && Says(m, "technician"), TimeSpan.FromSeconds(10));
        Assert.Equal([lena], sent.Cc.Mailboxes.Select(m => m.Address));
        Assert.DoesNotContain(gone, sent.EnvelopeTo());
        var automatic = await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().Where(o => o.WorkItemId == itemId && o.Automatic).ToListAsync());
        Assert.All(automatic, o => Assert.Null(o.Cc));
    }

    [Fact]
    public async Task A_mailing_lists_copy_keeps_no_copies_so_a_reply_never_goes_to_the_list()
    {
        using var host = WithSmtp();
        var (marie, list) = (Unique("marie"), Unique("office-list"));
        var mail = Mail(marie, "Printer jammed", [list], ["support@acme.test"]);
        mail.Headers.Add("List-Id", "<office.example.org>");
        var itemId = await PostAsync(host.CreateClient(), mail);
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);

        Assert.Empty(Cc(Assert.Single(await MessagesAsync(agent, itemId))));
        await ReplyAsync(host, agent, itemId, "On it.");

        var sent = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(marie) && Says(m, "On it"), TimeSpan.FromSeconds(10));
        Assert.Equal([marie], sent.EnvelopeTo());
        Assert.Empty(sent.Cc);
    }

    [Fact]
    public async Task A_list_post_whose_from_the_list_rewrote_is_answered_to_its_author_never_to_the_list()
    {
        // Mailman 3 for a DMARC-strict sender: From names the list, the author stays in X-Original-From and Reply-To.
        using var host = WithSmtp();
        var (alice, list) = (Unique("alice"), Unique("acme-users"));
        var mail = Mail(list, "[Acme-users] Thermostat firmware 2.1 bricks the unit", [list], ["support@acme.test"]);
        mail.From.Clear();
        mail.From.Add(new MailboxAddress("Alice Wong via Acme-users", list));
        mail.ReplyTo.Add(new MailboxAddress("Alice Wong", alice));
        mail.Headers.Add("X-Original-From", $"Alice Wong <{alice}>");
        mail.Headers.Add("List-Id", "Acme users <acme-users.lists.example>");
        mail.Headers.Add("List-Post", $"<mailto:{list}>");
        var itemId = await PostAsync(host.CreateClient(), mail);
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);

        var inbound = Assert.Single(await MessagesAsync(agent, itemId));
        Assert.Equal("Alice Wong", inbound.GetProperty("author").GetString());
        Assert.Empty(Cc(inbound));
        await ReplyAsync(host, agent, itemId, "Roll back to 2.0 for now.");

        var sent = await _servers.WaitForSentAsync(m => Says(m, "Roll back"), TimeSpan.FromSeconds(10));
        Assert.Equal([alice], sent.EnvelopeTo());
    }

    /// <summary>An out-of-office answering <paramref name="answered"/>, as Exchange sends it.</summary>
    private static MimeMessage OutOfOffice(string from, string subject, MimeMessage answered)
    {
        var mail = Mail(from, subject, [answered.ReplyTo.Mailboxes.FirstOrDefault()?.Address ?? "support@acme.test"], []);
        mail.InReplyTo = answered.MessageId;
        mail.Headers.Add("Auto-Submitted", "auto-replied");
        mail.Headers.Add("X-Auto-Response-Suppress", "All");
        mail.Body = new TextPart("plain") { Text = "I am on holiday until 14 December. Please contact Petra Klein." };
        return mail;
    }

    [Fact]
    public async Task An_out_of_office_on_the_thread_does_not_drop_the_colleague_from_the_next_reply()
    {
        using var host = WithSmtp();
        var (hans, petra) = (Unique("hans"), Unique("petra"));
        var itemId = await PostAsync(host.CreateClient(), Mail(hans, "Wasserschaden Lager", ["support@acme.test"], [petra]));
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        await ReplyAsync(host, agent, itemId, "Wir kommen Montag.");
        var first = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(hans) && Says(m, "Montag."), TimeSpan.FromSeconds(10));
        Assert.Equal([petra], first.Cc.Mailboxes.Select(m => m.Address));

        // Hans's Exchange answers our reply for him: it names nobody on copy.
        Assert.Equal(itemId, await PostAsync(host.CreateClient(), OutOfOffice(hans, "Automatische Antwort: Re: Wasserschaden Lager", first)));

        var oof = (await MessagesAsync(agent, itemId)).Last();
        Assert.True(oof.GetProperty("automatic").GetBoolean());
        var page = new HtmlParser().ParseDocument(await (await App.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{itemId}"));
        Assert.Equal($"To {hans} · Cc {petra}", page.QuerySelector("[data-testid=reply-recipients]")!.TextContent.Trim());
        Assert.Equal(["Customer", "Agent reply", "Automatic reply"], page.QuerySelectorAll("[data-testid=role]").Select(r => r.TextContent.Trim()));

        await ReplyAsync(host, agent, itemId, "Frau Klein, passt Ihnen Montag 9 Uhr?");
        var second = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(hans) && Says(m, "Frau Klein"), TimeSpan.FromSeconds(10));
        Assert.Equal([petra], second.Cc.Mailboxes.Select(m => m.Address));
    }

    [Fact]
    public async Task A_shared_mailboxs_auto_reply_on_the_thread_is_not_copied_on_the_next_reply()
    {
        using var host = WithSmtp();
        var (jan, facilities) = (Unique("jan"), Unique("facilitair"));
        var itemId = await PostAsync(host.CreateClient(), Mail(jan, "Lekkage kantoor", ["support@acme.test"], []));
        var agent = host.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        await ReplyAsync(host, agent, itemId, "Wanneer kunnen we langskomen?");
        var first = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(jan) && Says(m, "langskomen"), TimeSpan.FromSeconds(10));

        // The company's shared mailbox answers our reply automatically: it never took part in the conversation.
        var oof = OutOfOffice(facilities, "Automatisch antwoord: Re: Lekkage kantoor", first);
        oof.References.Add(first.MessageId!);
        Assert.Equal(itemId, await PostAsync(host.CreateClient(), oof));
        var page = new HtmlParser().ParseDocument(await (await App.SignedInAsync("agent1@prodesk.test")).GetStringAsync($"/agent/items/acme/{itemId}"));
        Assert.Equal($"To {jan}", page.QuerySelector("[data-testid=reply-recipients]")!.TextContent.Trim());

        await ReplyAsync(host, agent, itemId, "Dinsdag 10 uur?");
        var second = await _servers.WaitForSentAsync(m => m.EnvelopeTo().Contains(jan) && Says(m, "Dinsdag"), TimeSpan.FromSeconds(10));
        Assert.Equal([jan], second.EnvelopeTo());
        Assert.Empty(second.Cc);
    }
}
