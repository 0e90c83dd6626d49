using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data.Channels;
using ProDesk.Data.WorkItems;
using ProDesk.Web.Channels.WebForm;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// The public web form as a client's site and a browser use it: a submission becomes a conversation
/// answered by mail; bots, bad input, floods and redirect tricks are turned away.
/// </summary>
public sealed class WebFormTests(ProDeskApp app) : PostgresTest(app)
{
    private const string AcmeKey = "demo-acme-widget-key";
    private const string MerlionKey = "demo-merlion-widget-key";

    private static Dictionary<string, string> Form(string email = "marie@example.fr", string message = "The boiler makes a noise.", string? subject = "Boiler", string key = AcmeKey) =>
        new()
        {
            ["key"] = key,
            ["name"] = "Marie Curie",
            ["email"] = email,
            ["subject"] = subject ?? "",
            ["message"] = message,
            ["website"] = "",
        };

    private static Dictionary<string, string> With(Dictionary<string, string> form, string name, string value)
    {
        form[name] = value;
        return form;
    }

    private static HttpRequestMessage Post(HttpContent content, string slug = "acme", bool browser = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/webform/{slug}") { Content = content };
        // From a page of the client's own site, as browsers say.
        request.Headers.Add("Origin", "https://www.acme.example");
        // What a browser sends for a plain form post, or what fetch() and scripts send.
        request.Headers.Accept.ParseAdd(browser ? "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" : "application/json");
        return request;
    }

    private async Task<HttpResponseMessage> SubmitAsync(Dictionary<string, string> form, string slug = "acme", bool browser = false, HttpClient? client = null)
    {
        client ??= App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        return await client.SendAsync(Post(new FormUrlEncodedContent(form), slug, browser));
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private Task<List<WorkItem>> ItemsAsync(string slug = "acme") =>
        App.InTenantAsync(slug, db => db.WorkItems.AsNoTracking().Include(w => w.Messages).OrderBy(w => w.CreatedAt).ToListAsync());

    [Theory]
    [InlineData("support@acme.test")]          // this desk: it would mail itself
    [InlineData("Support+x1@northwind.test")]  // another client's desk, +tagged as its reply addresses are
    public async Task A_desks_own_address_is_refused_as_the_customers(string email)
    {
        var response = await SubmitAsync(Form(email: email));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal([WebFormApi.DeskAddressMessage], (await JsonAsync(response)).GetProperty("errors").GetProperty("email").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(await ItemsAsync());
    }

    [Fact]
    public async Task A_submission_becomes_a_conversation_answered_by_mail()
    {
        var response = await SubmitAsync(Form());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var answer = await JsonAsync(response);
        var itemId = answer.GetProperty("id").GetGuid();
        Assert.Equal("created", answer.GetProperty("outcome").GetString());
        Assert.Equal($"/api/v1/tenants/acme/work-items/{itemId}", response.Headers.Location?.OriginalString);
        // The client's site reads the answer from its own origin.
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var item = Assert.Single(await ItemsAsync());
        Assert.Equal((itemId, "webform", "Boiler"), (item.Id, item.Channel, item.Subject));
        var message = Assert.Single(item.Messages);
        Assert.Equal(("marie@example.fr", "Marie Curie", "The boiler makes a noise."), (message.FromAddress, message.AuthorName, message.Body));
        Assert.Equal("Marie Curie", (await App.InTenantAsync("acme", db => db.Contacts.AsNoTracking().SingleAsync(c => c.Email == "marie@example.fr"))).Name);

        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        (await agent.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/replies", new { body = "A technician comes on Monday." })).EnsureSuccessStatusCode();
        var outbound = Assert.Single(await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().ToListAsync()));
        Assert.Equal(("email", "marie@example.fr", "Re: Boiler"), (outbound.Channel, outbound.To, outbound.Subject));
        Assert.Equal(OutboundState.Pending, outbound.State);
    }

    [Fact]
    public async Task Files_come_with_the_message_and_download_as_sent()
    {
        using var content = new MultipartFormDataContent();
        foreach (var (name, value) in Form(subject: null, message: "Photos of the leak attached.\nSecond line."))
        {
            content.Add(new StringContent(value), name);
        }

        var photo = new ByteArrayContent([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        photo.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        content.Add(photo, "attachments", "../../leak.png");
        // An empty file input is sent as a part with no name and no bytes: not an attachment.
        var empty = new ByteArrayContent([]);
        empty.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"attachments\"", FileName = "\"\"" };
        content.Add(empty);

        var response = await App.CreateClient().SendAsync(Post(content));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var itemId = (await JsonAsync(response)).GetProperty("id").GetGuid();
        var item = Assert.Single(await ItemsAsync());
        Assert.Equal("Photos of the leak attached.", item.Subject);
        var attachment = Assert.Single(await App.InTenantAsync("acme", db => db.WorkItemAttachments.AsNoTracking().ToListAsync()));
        Assert.Equal(("leak.png", "image/png", 7L), (attachment.FileName, attachment.ContentType, attachment.Length));
        var agent = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        var download = await agent.GetAsync($"/api/v1/tenants/acme/work-items/{itemId}/attachments/{attachment.Id}");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3 }, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_named_file_without_bytes_is_refused_so_the_customer_does_not_believe_it_was_sent()
    {
        using var content = new MultipartFormDataContent();
        foreach (var (name, value) in Form(message: "The contract is attached."))
        {
            content.Add(new StringContent(value), name);
        }

        // A cloud-drive placeholder or a file emptied meanwhile: named, but nothing in it.
        content.Add(new ByteArrayContent([]), "attachments", "contract.pdf");

        var response = await App.CreateClient().SendAsync(Post(content));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("contract.pdf is empty", (await JsonAsync(response)).GetProperty("errors").GetProperty("attachments")[0].GetString(), StringComparison.Ordinal);
        Assert.Empty(await ItemsAsync());
    }

    [Fact]
    public async Task Nul_and_terminal_control_characters_are_dropped_and_a_line_break_in_a_one_line_field_is_a_space()
    {
        using var content = new MultipartFormDataContent();
        foreach (var (name, value) in With(With(Form(message: "Leak\0 in the \u001b[31mkitchen\r\nsince Monday"), "name", "Marie\r\nBcc: x@evil.test"), "subject", "Hello\0"))
        {
            content.Add(new StringContent(value), name);
        }

        var response = await App.CreateClient().SendAsync(Post(content));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var item = Assert.Single(await ItemsAsync());
        Assert.Equal("Hello", item.Subject);
        var message = Assert.Single(item.Messages);
        Assert.Equal(("Marie Bcc: x@evil.test", "Leak in the [31mkitchen\nsince Monday"), (message.AuthorName, message.Body));
    }

    [Fact]
    public async Task A_script_on_the_clients_site_may_ask_before_it_posts()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/channels/webform/acme");
        preflight.Headers.Add("Origin", "https://www.acme.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");

        var response = await App.CreateClient().SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Contains("content-type", response.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_filled_honeypot_gets_the_same_answer_and_stores_nothing()
    {
        var bot = await SubmitAsync(With(Form(email: "bot@spam.example"), "website", "https://spam.example"));
        var person = await SubmitAsync(Form());

        Assert.Equal(person.StatusCode, bot.StatusCode);
        var (b, p) = (await JsonAsync(bot), await JsonAsync(person));
        Assert.Equal(p.GetProperty("outcome").GetString(), b.GetProperty("outcome").GetString());
        Assert.NotNull(bot.Headers.Location);
        var item = Assert.Single(await ItemsAsync());
        Assert.Equal(p.GetProperty("id").GetGuid(), item.Id);
        Assert.False(await App.InTenantAsync("acme", db => db.Contacts.AnyAsync(c => c.Email == "bot@spam.example")));

        var browserBot = await SubmitAsync(With(With(Form(), "website", "x"), "returnUrl", "https://support.acme.test/thanks"), browser: true);
        Assert.Equal(HttpStatusCode.SeeOther, browserBot.StatusCode);
        Assert.Single(await ItemsAsync());
    }

    [Fact]
    public async Task Bad_fields_are_refused_naming_each_one()
    {
        var form = Form(email: "not an address", message: new string('x', 10_001));
        form["name"] = new string('n', 201);
        form["submissionId"] = "<script>";

        var response = await SubmitAsync(form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await JsonAsync(response)).GetProperty("errors");
        Assert.Equal(["email", "message", "name", "submissionId"], errors.EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("valid email", errors.GetProperty("email")[0].GetString(), StringComparison.Ordinal);

        // A control character in the address is refused, not dropped: "a\0b@x" is not "ab@x", whom replies would reach.
        // (A url-encoded form with %00 is refused by the form reader already; a multipart one reaches the check.)
        var multipart = new MultipartFormDataContent();
        foreach (var (name, value) in Form(email: "ma\0rie@example.fr"))
        {
            multipart.Add(new StringContent(value), name);
        }

        var nul = await App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).SendAsync(Post(multipart, "acme", browser: false));
        Assert.Equal(HttpStatusCode.BadRequest, nul.StatusCode);
        var nulBody = await nul.Content.ReadAsStringAsync();
        Assert.True(JsonDocument.Parse(nulBody).RootElement.TryGetProperty("errors", out var nulErrors) && nulErrors.TryGetProperty("email", out _), nulBody);
        Assert.Empty(await ItemsAsync());

        var empty = await JsonAsync(await SubmitAsync(Form(email: "", message: "  ")));
        Assert.Equal("is required", empty.GetProperty("errors").GetProperty("email")[0].GetString());
        Assert.Equal("is required", empty.GetProperty("errors").GetProperty("message")[0].GetString());

        // Longer than the form reader takes at all: the reader does not say which field, so the answer blames none wrongly.
        foreach (var tooLong in new[] { With(Form(), "name", new string('x', 1_100_000)), With(Form(), new string('f', 300), "v") })
        {
            var huge = await SubmitAsync(tooLong);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
            var detail = (await JsonAsync(huge)).GetProperty("detail").GetString()!;
            Assert.StartsWith("form: a field's name or value is longer than the form reader takes", detail, StringComparison.Ordinal);
            Assert.Contains("message at most 10000", detail, StringComparison.Ordinal);
        }

        var page = await SubmitAsync(Form(email: "<b>x</b>"), browser: true);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("email: is not a valid email address", html, StringComparison.Ordinal);
        Assert.Empty(await ItemsAsync());
    }

    [Theory]
    [InlineData("a@b")]
    [InlineData("a@[127.0.0.1]")]
    [InlineData("a@-b.com")]
    [InlineData("ünï@example.com")]
    public async Task An_address_no_relay_would_deliver_to_is_refused_naming_email(string email)
    {
        var response = await SubmitAsync(Form(email: email));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("reply to", (await JsonAsync(response)).GetProperty("errors").GetProperty("email")[0].GetString(), StringComparison.Ordinal);
        Assert.Empty(await ItemsAsync());
    }

    [Fact]
    public async Task A_wrong_key_and_an_unknown_tenant_get_the_same_refusal()
    {
        var wrong = await SubmitAsync(Form(key: "not-the-key"));
        var otherTenants = await SubmitAsync(Form(key: MerlionKey));
        var unknown = await SubmitAsync(Form(), slug: "no-such-tenant");

        Assert.All([wrong, otherTenants, unknown], r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        var (a, b) = (await JsonAsync(wrong), await JsonAsync(unknown));
        Assert.Equal((a.GetProperty("title").GetString(), a.GetProperty("detail").GetString()), (b.GetProperty("title").GetString(), b.GetProperty("detail").GetString()));
        Assert.Empty(await ItemsAsync());
        Assert.Empty(await ItemsAsync("merlion"));

        // A request that is no form is answered as such whichever slug it names: the answer does not tell which exist.
        foreach (var slug in new[] { "acme", "no-such-tenant" })
        {
            var json = await App.CreateClient().SendAsync(Post(new StringContent("{}", System.Text.Encoding.UTF8, "application/json"), slug));
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
            var cut = new StringContent("--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb");
            cut.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xx");
            Assert.Equal(HttpStatusCode.BadRequest, (await App.CreateClient().SendAsync(Post(cut, slug))).StatusCode);
        }
    }

    [Fact]
    public async Task A_browser_goes_back_to_the_tenants_own_site_and_nowhere_else()
    {
        var back = await SubmitAsync(With(Form(), "returnUrl", "https://support.acme.test/thanks?form=contact"), browser: true);
        Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
        Assert.Equal("https://support.acme.test/thanks?form=contact", back.Headers.Location?.OriginalString);

        string[] elsewhere = ["https://evil.example/phish", "//evil.example/", "https://support.acme.test.evil.example/", "https://support.acme.test@evil.example/", "https://merlion.prodesk.test/"];
        foreach (var target in elsewhere)
        {
            var refused = await SubmitAsync(With(Form(message: $"Sent with {target}"), "returnUrl", target), browser: true);
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Null(refused.Headers.Location);
            Assert.Equal("text/html", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Thank you", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The message was taken every time; only the redirect was refused.
        Assert.Equal(1 + elsewhere.Length, (await ItemsAsync()).Count);
    }

    [Fact]
    public async Task A_double_submission_makes_one_conversation()
    {
        var form = With(Form(), "submissionId", "page-7f3a");
        var first = await SubmitAsync(form);
        var again = await SubmitAsync(form);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("duplicate", (await JsonAsync(again)).GetProperty("outcome").GetString());
        Assert.Equal((await JsonAsync(first)).GetProperty("id").GetGuid(), (await JsonAsync(again)).GetProperty("id").GetGuid());

        // Back to the page (its hidden id comes back with it) and another question: taken in, not thanked for and dropped.
        var next = await SubmitAsync(With(form, "message", "Also, I want a refund for order 456."));
        Assert.Equal(HttpStatusCode.Created, next.StatusCode);

        // Without an id, the same sender, subject and message within minutes are one submission too.
        var plain = Form(email: "bob@example.org", message: "Same words twice.");
        var results = await Task.WhenAll(SubmitAsync(plain), SubmitAsync(plain));
        Assert.All(results, r => Assert.True(r.IsSuccessStatusCode));
        // Another sender with the same submission id is another submission.
        Assert.Equal(HttpStatusCode.Created, (await SubmitAsync(With(Form(email: "carl@example.org"), "submissionId", "page-7f3a"))).StatusCode);

        var items = await ItemsAsync();
        Assert.Equal(4, items.Count);
        Assert.All(items, i => Assert.Single(i.Messages));
    }

    [Fact]
    public async Task Floods_are_cut_off_per_address_and_per_tenant_with_retry_after()
    {
        using (var host = App.WithWebHostBuilder(b => b.UseSetting("WebForm:PerIpLimit", "2")))
        {
            var client = host.CreateClient();
            Assert.Equal(HttpStatusCode.Created, (await SubmitAsync(Form(message: "one"), client: client)).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await SubmitAsync(Form(message: "two", key: MerlionKey), slug: "merlion", client: client)).StatusCode);

            // The same address is held back on every tenant's form.
            var limited = await SubmitAsync(Form(message: "three"), client: client);
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
            Assert.InRange(limited.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 600);
            Assert.Equal(429, (await JsonAsync(limited)).GetProperty("status").GetInt32());

            // A person who posted the form gets a page saying so, not JSON.
            var page = await SubmitAsync(Form(message: "three"), browser: true, client: client);
            Assert.Equal(HttpStatusCode.TooManyRequests, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Too many submissions", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var host = App.WithWebHostBuilder(b => b.UseSetting("WebForm:PerTenantLimit", "1")))
        {
            var client = host.CreateClient();
            // What stores nothing does not use up the client's form: a wrong key, an invalid form, a bot's honeypot hit.
            Assert.Equal(HttpStatusCode.Forbidden, (await SubmitAsync(Form(message: "guess", key: "wrong-key"), client: client)).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await SubmitAsync(Form(email: "not an address"), client: client)).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await SubmitAsync(With(Form(message: "bot"), "website", "http://spam.example"), client: client)).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await SubmitAsync(Form(message: "four"), client: client)).StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await SubmitAsync(Form(message: "five"), client: client)).StatusCode);
            // One client's flooded form leaves the others open.
            Assert.Equal(HttpStatusCode.Created, (await SubmitAsync(Form(message: "six", key: MerlionKey), slug: "merlion", client: client)).StatusCode);
        }

        Assert.Equal(["one", "four"], (await ItemsAsync()).Select(i => i.Messages.Single().Body));
        Assert.Equal(2, (await ItemsAsync("merlion")).Count);
    }
}
