using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using ProDesk.Data.Channels;
using ProDesk.Domain.Csat;
using ProDesk.Web.Channels;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Tenancy;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// Solving a mail conversation asks its customer for a rating; a link opens the page with its score chosen, and the
/// customer's Send records it, once per solve. The client company and the agent see the ratings.
/// </summary>
public sealed partial class CsatTests(ProDeskApp app) : PostgresTest(app)
{
    private const string AcmeKey = "demo-acme-inbound-key-0123456789";

    private async Task<HttpClient> AgentAsync() => App.CreateClient().WithBearer((await App.PatAsync("agent2@prodesk.test")).Secret);

    /// <summary>A customer's mail through the inbound MIME route; returns the new conversation's id.</summary>
    private async Task<Guid> MailAsync(string from = "marie@example.fr", string subject = "Leaking tap", string name = "Marie Curie")
    {
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress(name, from));
        mail.To.Add(MailboxAddress.Parse("support@acme.test"));
        mail.Subject = subject;
        mail.MessageId = $"{Guid.NewGuid():N}@mail.example.fr";
        mail.Body = new TextPart("plain") { Text = "The kitchen tap drips." };
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(mail.ToString()));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/email/acme/inbound") { Content = content };
        request.Headers.Add(EmailInboundApi.KeyHeader, AcmeKey);
        var response = await App.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("workItemId").GetGuid();
    }

    private static async Task StatusAsync(HttpClient agent, Guid itemId, string status) =>
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/status", new { status })).EnsureSuccessStatusCode();

    private Task<List<OutboundMessage>> SurveysAsync(Guid itemId) =>
        App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().Where(o => o.WorkItemId == itemId && o.Body.Contains("/csat/")).OrderBy(o => o.CreatedAt).ToListAsync());

    /// <summary>The survey as it would leave over SMTP, and its rating links by score.</summary>
    private async Task<(MimeMessage Mail, Dictionary<int, string> Links)> SentAsync(OutboundMessage survey)
    {
        var settings = await App.InTenantAsync("acme", db => db.ChannelSettings.AsNoTracking().SingleAsync());
        var mail = SmtpEmailSender.Build(survey, settings, (await App.TenantAsync("acme")).Name);
        var links = RatingLink().Matches(mail.TextBody ?? "").ToDictionary(m => int.Parse(m.Groups["score"].Value, System.Globalization.CultureInfo.InvariantCulture), m => m.Value);
        return (mail, links);
    }

    private static string PathOf(string link) => new Uri(link).PathAndQuery;

    private static string Flip(string token, int at) => string.Concat(token.AsSpan(0, at), token[at] == 'A' ? "B" : "A", token.AsSpan(at + 1));

    private Task<List<(int Solve, int Score, string? Comment)>> RatingsAsync(Guid itemId) =>
        App.InTenantAsync("acme", async db => (await db.CsatRatings.AsNoTracking().Where(r => r.WorkItemId == itemId).OrderBy(r => r.Solve).ToListAsync())
            .Select(r => (r.Solve, r.Score, r.Comment)).ToList());

    [Fact]
    public async Task A_customer_who_gave_no_name_is_greeted_without_their_address_and_mailed_by_address_alone()
    {
        // Probe round 20: "Hello a2@x.example," and To: "a2@x.example" <a2@x.example>.
        var itemId = await MailAsync(from: "a2@x.example", name: "");

        await StatusAsync(await AgentAsync(), itemId, "Solved");

        var (mail, _) = await SentAsync(Assert.Single(await SurveysAsync(itemId)));
        Assert.StartsWith("Hello,\n", (mail.TextBody ?? "").ReplaceLineEndings("\n"), StringComparison.Ordinal);
        var to = Assert.Single(mail.To.Mailboxes);
        Assert.Equal(("", "a2@x.example"), (to.Name ?? "", to.Address));
        Assert.DoesNotContain("\"a2@x.example\"", mail.To.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_survey_link_opened_on_another_clients_own_host_is_not_found()
    {
        var itemId = await MailAsync();
        await StatusAsync(await AgentAsync(), itemId, "Solved");
        var path = PathOf((await SentAsync(Assert.Single(await SurveysAsync(itemId)))).Links[5]);

        var merlion = App.CreateClient();
        merlion.DefaultRequestHeaders.Host = "support.merlion.test";
        var there = await merlion.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, there.StatusCode);
        Assert.DoesNotContain("Plomberie", await there.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        var acme = App.CreateClient();
        acme.DefaultRequestHeaders.Host = "support.acme.test";
        Assert.Equal(HttpStatusCode.OK, (await acme.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task Solving_a_mail_conversation_queues_one_automatic_survey_with_five_signed_links()
    {
        var itemId = await MailAsync();
        await StatusAsync(await AgentAsync(), itemId, "Solved");

        var survey = Assert.Single(await SurveysAsync(itemId));
        Assert.Equal(("email", "marie@example.fr", true, OutboundState.Pending), (survey.Channel, survey.To, survey.Automatic, survey.State));
        var (mail, links) = await SentAsync(survey);
        Assert.Equal("auto-replied", mail.Headers[HeaderId.AutoSubmitted]);
        Assert.Equal("Re: Leaking tap", mail.Subject);
        Assert.Equal([1, 2, 3, 4, 5], links.Keys.Order());
        Assert.All(links.Values, l => Assert.StartsWith("http://localhost:5080/csat/", l, StringComparison.Ordinal));
        Assert.Single(links.Values.Select(l => l.Split('/')[4]).Distinct());
        // A reply to the survey threads into the item, as a reply to any of our mail does.
        Assert.NotNull(survey.InternetMessageId);
    }

    [Fact]
    public async Task Opening_every_link_records_nothing_with_or_without_script_until_the_customer_sends()
    {
        var itemId = await MailAsync();
        await StatusAsync(await AgentAsync(), itemId, "Solved");
        var (_, links) = await SentAsync(Assert.Single(await SurveysAsync(itemId)));

        // A mail scanner opens every link of a mail, best to worst, with GET or HEAD, or in a browser that runs scripts
        // (Defender Safe Links, Proofpoint, Mimecast): the page has no script at all, so loading it sends nothing.
        foreach (var (score, link) in links.OrderByDescending(l => l.Key))
        {
            using var opened = new HttpRequestMessage(HttpMethod.Get, PathOf(link));
            opened.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
            var page = await App.Client().SendAsync(opened);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("data-testid=\"csat-not-sent\"", html, StringComparison.Ordinal);
            Assert.Contains("Your rating is not sent yet.", html, StringComparison.Ordinal);
            Assert.Matches($"<input type=\"radio\" name=\"rating\" value=\"{score}\" checked=\"checked\"", html);
            Assert.Single(RadioChecked().Matches(html));
            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(HttpStatusCode.OK, (await App.Client().SendAsync(new HttpRequestMessage(HttpMethod.Head, PathOf(link)))).StatusCode);
        }

        Assert.Empty(await RatingsAsync(itemId));

        // The customer's Send records what they chose on the page, here another score than the link's.
        var customer = App.Client();
        var sent = await SendAsync(customer, PathOf(links[5]), rating: "3", comment: "Good in the end");
        Assert.Contains("data-testid=\"csat-score\">3<", await sent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal([(1, 3, (string?)"Good in the end")], await RatingsAsync(itemId));

        // A scanner opening the links after the customer rated changes nothing either; the page offers the change.
        foreach (var link in links.Values)
        {
            Assert.Equal(HttpStatusCode.OK, (await App.Client().GetAsync(PathOf(link))).StatusCode);
        }

        Assert.Contains("data-testid=\"csat-earlier\"", await App.Client().GetStringAsync(PathOf(links[1])), StringComparison.Ordinal);
        Assert.Equal([(1, 3, (string?)"Good in the end")], await RatingsAsync(itemId));
    }

    [Fact]
    public async Task Sending_the_page_records_the_score_a_later_send_changes_it_and_a_comment_can_follow()
    {
        var itemId = await MailAsync();
        await StatusAsync(await AgentAsync(), itemId, "Solved");
        var (_, links) = await SentAsync(Assert.Single(await SurveysAsync(itemId)));
        var customer = App.Client();

        var opened = await customer.GetAsync(PathOf(links[4]));
        Assert.True(opened.Headers.CacheControl?.NoStore, "the page behind a personal link is not cached");
        Assert.Contains("csat-confirm", await opened.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await RatingsAsync(itemId));

        // The customer's click on "Send my rating", with the score the link chose.
        var page = await RateAsync(customer, PathOf(links[4]));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"csat-score\">4<", html, StringComparison.Ordinal);
        Assert.Contains("Acme Plomberie SAS", html, StringComparison.Ordinal);
        Assert.Equal([(1, 4, (string?)null)], await RatingsAsync(itemId));

        Assert.Equal(HttpStatusCode.OK, (await RateAsync(customer, PathOf(links[2]))).StatusCode);
        Assert.Equal([(1, 2, (string?)null)], await RatingsAsync(itemId));

        var token = await Browserless.AntiforgeryTokenAsync(customer, PathOf(links[2]));
        var commented = await customer.PostAsync(PathOf(links[2]), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["comment"] = "Quick, but the <b>plumber</b> was late.",
            ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.OK, commented.StatusCode);
        var thanks = await commented.Content.ReadAsStringAsync();
        Assert.Contains("csat-comment-saved", thanks, StringComparison.Ordinal);
        Assert.Contains("the &lt;b&gt;plumber&lt;/b&gt; was late", thanks, StringComparison.Ordinal);
        Assert.Equal([(1, 2, "Quick, but the <b>plumber</b> was late.")], await RatingsAsync(itemId));

        // Without the antiforgery token, a comment is not taken.
        var forged = await App.Client().PostAsync(PathOf(links[2]), new FormUrlEncodedContent(new Dictionary<string, string> { ["comment"] = "spam" }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

        // Staff see it for reports.
        var report = await (await AgentAsync()).JsonAsync($"/api/v1/tenants/acme/csat?from={DateTime.UtcNow.AddHours(-1):O}");
        Assert.Equal((1, 2.0), (report.GetProperty("count").GetInt32(), report.GetProperty("average").GetDouble()));
        Assert.Equal(1, report.GetProperty("distribution").GetProperty("2").GetInt32());
        var row = Assert.Single(report.GetProperty("items").EnumerateArray());
        Assert.Equal((itemId, "Leaking tap", 2, "Quick, but the <b>plumber</b> was late."),
            (row.GetProperty("workItemId").GetGuid(), row.GetProperty("subject").GetString(), row.GetProperty("score").GetInt32(), row.GetProperty("comment").GetString()));
    }

    private const string HostileComment = "<script>alert(1)</script> The <b>plumber</b> was late";

    /// <summary>A conversation solved and rated 2 with a comment that is markup; returns the item's id.</summary>
    private async Task<Guid> RatedAsync()
    {
        var itemId = await MailAsync();
        await StatusAsync(await AgentAsync(), itemId, "Solved");
        var (_, links) = await SentAsync(Assert.Single(await SurveysAsync(itemId)));
        await SendAsync(App.Client(), PathOf(links[2]), rating: "2", comment: HostileComment);
        return itemId;
    }

    [Fact]
    public async Task The_client_company_reads_its_own_ratings_and_another_client_gets_404()
    {
        var unrated = await MailAsync(subject: "Not rated yet");
        var itemId = await RatedAsync();

        foreach (var email in new[] { "viewer@acme.test", "admin@acme.test" })
        {
            var client = App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);
            var list = await client.JsonAsync("/api/v1/tenants/acme/csat");
            Assert.Equal((1, 2.0), (list.GetProperty("count").GetInt32(), list.GetProperty("average").GetDouble()));
            Assert.Equal([0, 1, 0, 0, 0], new[] { "1", "2", "3", "4", "5" }.Select(s => list.GetProperty("distribution").GetProperty(s).GetInt32()));
            var row = Assert.Single(list.GetProperty("items").EnumerateArray());
            Assert.Equal((itemId, HostileComment), (row.GetProperty("workItemId").GetGuid(), row.GetProperty("comment").GetString()));

            // The item says how its customer rated it, and that an unrated one has no rating.
            var csat = (await client.JsonAsync($"/api/v1/tenants/acme/work-items/{itemId}")).GetProperty("csat");
            Assert.Equal((2, HostileComment, 1), (csat.GetProperty("score").GetInt32(), csat.GetProperty("comment").GetString(), csat.GetProperty("solve").GetInt32()));
            Assert.Equal(JsonValueKind.Null, (await client.JsonAsync($"/api/v1/tenants/acme/work-items/{unrated}")).GetProperty("csat").ValueKind);
        }

        foreach (var email in new[] { "viewer@northwind.test", "admin@northwind.test" })
        {
            var other = App.CreateClient().WithBearer((await App.PatAsync(email)).Secret);
            Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/api/v1/tenants/acme/csat")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/tenants/acme/work-items/{itemId}")).StatusCode);
        }
    }

    [Fact]
    public async Task The_portal_shows_the_clients_satisfaction_with_comments_as_text()
    {
        var viewer = await App.SignedInAsync("viewer@acme.test");
        Assert.Contains("data-testid=\"csat-none\"", await viewer.GetStringAsync("/portal"), StringComparison.Ordinal);

        await RatedAsync();

        var page = await viewer.GetStringAsync("/portal");
        Assert.Contains("data-testid=\"csat-count\">1<", page, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"csat-average\">2.0<", page, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"csat-score-2\">1<", page, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"csat-score-5\">0<", page, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; The &lt;b&gt;plumber&lt;/b&gt; was late", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert(1)", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>plumber", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agents_item_page_shows_the_customers_rating_and_comment_as_text()
    {
        var itemId = await RatedAsync();
        var agent = await App.SignedInAsync("agent2@prodesk.test");

        var page = await agent.GetStringAsync($"/agent/items/acme/{itemId}");

        Assert.Contains("data-testid=\"csat-score\">2<", page, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; The &lt;b&gt;plumber&lt;/b&gt; was late", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert(1)", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_comment_is_kept_as_typed_without_terminal_controls_and_an_overlong_one_is_refused_not_cut()
    {
        var itemId = await MailAsync();
        await StatusAsync(await AgentAsync(), itemId, "Solved");
        var (_, links) = await SentAsync(Assert.Single(await SurveysAsync(itemId)));
        var customer = App.Client();
        Assert.Equal(HttpStatusCode.OK, (await RateAsync(customer, PathOf(links[3]))).StatusCode);

        async Task<HttpResponseMessage> CommentAsync(string comment) =>
            await customer.PostAsync(PathOf(links[3]), new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["comment"] = comment,
                ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(customer, PathOf(links[3])),
            }));

        var tooLong = await CommentAsync(new string('x', 2001));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        var page = await tooLong.Content.ReadAsStringAsync();
        Assert.Contains("csat-comment-too-long", page, StringComparison.Ordinal);
        Assert.DoesNotContain("csat-comment-saved", page, StringComparison.Ordinal);
        Assert.Equal([(1, 3, (string?)null)], await RatingsAsync(itemId));

        Assert.Equal(HttpStatusCode.OK, (await CommentAsync("Fine\u001b[31m overall\u0007\r\nThanks")).StatusCode);
        Assert.Equal([(1, 3, "Fine[31m overall\nThanks")], await RatingsAsync(itemId));
    }

    [Fact]
    public async Task A_tampered_or_forged_link_shows_404_an_edited_score_offers_the_scale_and_nothing_is_stored()
    {
        var itemId = await MailAsync();
        await StatusAsync(await AgentAsync(), itemId, "Solved");
        var (_, links) = await SentAsync(Assert.Single(await SurveysAsync(itemId)));
        var good = PathOf(links[5]);
        var token = good.Split('/')[2];
        var northwind = await App.TenantAsync("northwind");
        var acmeKey = await App.InTenantAsync("acme", db => db.ChannelSettings.Select(c => c.ReplyTokenKey).SingleAsync());
        var northwindKey = await App.InTenantAsync("northwind", db => db.ChannelSettings.Select(c => c.ReplyTokenKey).SingleAsync());
        var acme = await App.TenantAsync("acme");

        var attempts = new[]
        {
            // One character changed: in the tenant, the item, the solve, the signature.
            $"/csat/{Flip(token, 0)}/5",
            $"/csat/{Flip(token, 25)}/5",
            $"/csat/{Flip(token, 47)}/5",
            $"/csat/{Flip(token, 60)}/5",
            $"/csat/{token[..^1]}/5",
            "/csat/not-a-token/5",
            // Another item, or another solve, signed with someone else's key: the tenant named is acme, the key is not.
            $"/csat/{CsatToken.Create(acme.Id, itemId, 1, northwindKey)}/5",
            $"/csat/{CsatToken.Create(acme.Id, itemId, 2, new byte[32])}/5",
            // acme's key, but naming northwind: checked with northwind's key, which did not sign it.
            $"/csat/{CsatToken.Create(northwind.Id, itemId, 1, acmeKey)}/5",
            // A genuine token for an item that does not exist.
            $"/csat/{CsatToken.Create(acme.Id, Guid.NewGuid(), 1, acmeKey)}/5",
        };
        // Opened, and sent as the page would send it (with an antiforgery token the good link's page gave).
        var sender = App.Client();
        var antiforgery = await Browserless.AntiforgeryTokenAsync(sender, good);
        foreach (var path in attempts)
        {
            var response = await App.Client().GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
            // The customer clicked it in a mail: a browser gets a page that says so, not a JSON body.
            using var opened = new HttpRequestMessage(HttpMethod.Get, path);
            opened.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
            var page = await App.Client().SendAsync(opened);
            Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<h1>404 Not Found</h1>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            var sent = await sender.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = antiforgery }));
            Assert.True(sent.StatusCode == HttpStatusCode.NotFound, $"POST {path}: {(int)sent.StatusCode}");
        }

        // The genuine link with its score edited: the customer is offered the scale again (400), nothing is stored.
        foreach (var score in new[] { "6", "0", "-1", "3.5", "x", "05x" })
        {
            var response = await App.Client().GetAsync($"/csat/{token}/{score}");
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{score}: {(int)response.StatusCode}");
            var page = await response.Content.ReadAsStringAsync();
            Assert.Contains("data-testid=\"csat-choose\"", page, StringComparison.Ordinal);
            Assert.Equal(5, Enumerable.Range(1, 5).Count(n => page.Contains($"href=\"/csat/{token}/{n}\"", StringComparison.Ordinal)));
            var sent = await sender.PostAsync($"/csat/{token}/{score}", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = antiforgery }));
            Assert.Equal(HttpStatusCode.BadRequest, sent.StatusCode);
        }

        Assert.Empty(await RatingsAsync(itemId));
        Assert.Equal(HttpStatusCode.OK, (await RateAsync(App.Client(), good)).StatusCode);
        Assert.Equal([(1, 5, (string?)null)], await RatingsAsync(itemId));
    }

    [Fact]
    public async Task The_link_works_for_whoever_holds_it_on_any_host_signed_in_elsewhere_or_not()
    {
        var itemId = await MailAsync();
        await StatusAsync(await AgentAsync(), itemId, "Solved");
        var (_, links) = await SentAsync(Assert.Single(await SurveysAsync(itemId)));
        // Signed in as another tenant's client admin, on acme's support host: the token alone decides.
        var elsewhere = await App.SignedInAsync("admin@northwind.test");
        using var request = new HttpRequestMessage(HttpMethod.Get, PathOf(links[4]));
        request.Headers.Host = "support.acme.test";

        var response = await RateAsync(elsewhere, PathOf(links[4]), request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([(1, 4, (string?)null)], await RatingsAsync(itemId));
    }

    private static async Task ReplyAsync(HttpClient agent, Guid itemId, string body) =>
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body })).EnsureSuccessStatusCode();

    [Fact]
    public async Task A_thank_you_to_the_survey_reopens_the_item_but_solving_it_again_asks_nothing_until_an_agent_answers()
    {
        var itemId = await MailAsync(subject: "Robinet qui goutte");
        var agent = await AgentAsync();
        await ReplyAsync(agent, itemId, "Changez le joint.");
        await StatusAsync(agent, itemId, "Solved");
        var survey = Assert.Single(await SurveysAsync(itemId));

        // The customer answers the survey mail: the item is open again, and the agent solves the thank-you.
        var thanks = new MimeMessage();
        thanks.From.Add(new MailboxAddress("Marie Curie", "marie@example.fr"));
        thanks.To.Add(MailboxAddress.Parse("support@acme.test"));
        thanks.Subject = "Re: Robinet qui goutte";
        thanks.MessageId = $"{Guid.NewGuid():N}@mail.example.fr";
        thanks.InReplyTo = survey.InternetMessageId;
        thanks.Body = new TextPart("plain") { Text = "Merci beaucoup, c'est réparé !" };
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(thanks.ToString()));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/email/acme/inbound") { Content = content };
        request.Headers.Add(EmailInboundApi.KeyHeader, AcmeKey);
        Assert.Equal(HttpStatusCode.OK, (await App.CreateClient().SendAsync(request)).StatusCode);
        Assert.Equal(ProDesk.Domain.WorkItems.WorkItemStatus.Open, await App.InTenantAsync("acme", db => db.WorkItems.Where(w => w.Id == itemId).Select(w => w.Status).SingleAsync()));
        await StatusAsync(agent, itemId, "Solved");
        Assert.Single(await SurveysAsync(itemId));

        // Once an agent has answered again, the next solve is one the customer is asked about.
        await StatusAsync(agent, itemId, "Open");
        await ReplyAsync(agent, itemId, "Le joint de la douche aussi ?");
        await StatusAsync(agent, itemId, "Solved");
        var surveys = await SurveysAsync(itemId);
        Assert.Equal(2, surveys.Count);
        Assert.NotEqual((await SentAsync(surveys[0])).Links[5], (await SentAsync(surveys[1])).Links[5]);
    }

    [Fact]
    public async Task Each_solve_asks_once_and_is_rated_on_its_own()
    {
        var itemId = await MailAsync();
        var agent = await AgentAsync();
        await StatusAsync(agent, itemId, "Solved");
        await StatusAsync(agent, itemId, "Open");
        await ReplyAsync(agent, itemId, "The washer was not the cause: a plumber comes tomorrow.");
        await StatusAsync(agent, itemId, "Solved");
        await StatusAsync(agent, itemId, "Closed");

        var surveys = await SurveysAsync(itemId);
        Assert.Equal(2, surveys.Count);
        var (_, first) = await SentAsync(surveys[0]);
        var (_, second) = await SentAsync(surveys[1]);
        Assert.NotEqual(first[5], second[5]);

        await RateAsync(App.Client(), PathOf(first[3]));
        await RateAsync(App.Client(), PathOf(second[5]));
        Assert.Equal([(1, 3, (string?)null), (2, 5, (string?)null)], await RatingsAsync(itemId));
    }

    [Fact]
    public async Task The_links_point_where_customers_reach_the_desk_as_given_for_twilio()
    {
        using var host = App.WithWebHostBuilder(b => b.UseSetting("Channels:PublicBaseUrl", "https://desk.example.com/"));
        var itemId = await MailAsync();
        await StatusAsync(host.CreateClient().WithBearer((await App.PatAsync("agent2@prodesk.test")).Secret), itemId, "Solved");

        var (_, links) = await SentAsync(Assert.Single(await SurveysAsync(itemId)));
        Assert.All(links.Values, l => Assert.StartsWith("https://desk.example.com/csat/", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_web_forms_typed_in_address_is_asked_only_after_an_agent_answered_it()
    {
        // Spam solved as it came: a web form names any address, and its name and subject would be in the survey.
        var key = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.SeedDirectory, "acme", "channels.json"))).RootElement.GetProperty("widgetKey").GetString()!;
        async Task<Guid> PostAsync(string message)
        {
            var form = await App.Client().PostAsync("/channels/webform/acme", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["key"] = key,
                ["name"] = "customer, your account is locked",
                ["email"] = "victim@example.org",
                ["message"] = message,
            }));
            Assert.True(form.IsSuccessStatusCode || form.StatusCode == HttpStatusCode.Redirect, $"web form: {(int)form.StatusCode}");
            return await App.InTenantAsync("acme", db => db.WorkItemMessages.Where(m => m.Body == message).Select(m => m.WorkItemId).SingleAsync());
        }

        var spam = await PostAsync("log in at https://phish.example now");
        var agent = await AgentAsync();
        await StatusAsync(agent, spam, "Solved");
        Assert.Empty(await SurveysAsync(spam));

        // A real request the desk answered there: asked as any mail conversation is.
        var real = await PostAsync("My boiler is leaking");
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{real}/replies", new { body = "A plumber comes tomorrow." })).EnsureSuccessStatusCode();
        await StatusAsync(agent, real, "Solved");
        Assert.Equal("victim@example.org", Assert.Single(await SurveysAsync(real)).To);
    }

    [Fact]
    public async Task No_survey_for_customers_the_channel_cannot_mail()
    {
        var agent = await AgentAsync();
        Guid sms;
        using (TenantScopes.Enter(await App.ScopeAsync("acme")))
        {
            await using var scope = App.Services.CreateAsyncScope();
            sms = (await scope.ServiceProvider.GetRequiredService<IngestMessage>().HandleAsync(
                new InboundMessage("sms", "SM1", "+33611223344", null, "SMS", "Hello") { FromIsPhone = true }, CancellationToken.None)).Item.Id;
        }

        await StatusAsync(agent, sms, "Solved");

        Assert.Empty(await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().Where(o => o.WorkItemId == sms).ToListAsync()));
    }

    /// <summary>The customer's "Send my rating" on the page a link opens, with the score it chose (POST, with the page's antiforgery token).</summary>
    private static async Task<HttpResponseMessage> RateAsync(HttpClient customer, string path, HttpRequestMessage? opening = null)
    {
        var page = opening is null ? await customer.GetAsync(path) : await customer.SendAsync(opening);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var token = Browserless.AntiforgeryTokenIn(await page.Content.ReadAsStringAsync(), path);
        return await customer.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
    }

    /// <summary>The page's form as a browser sends it: the radio chosen and the comment box, with the antiforgery token.</summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient customer, string path, string rating, string comment)
    {
        var token = await Browserless.AntiforgeryTokenAsync(customer, path);
        var sent = await customer.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["rating"] = rating,
            ["comment"] = comment,
            ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        return sent;
    }

    [GeneratedRegex("<input type=\"radio\"[^>]*checked")]
    private static partial Regex RadioChecked();

    [GeneratedRegex(@"https?://[^\s/]+/csat/[A-Za-z0-9_-]+/(?<score>[1-5])")]
    private static partial Regex RatingLink();
}
