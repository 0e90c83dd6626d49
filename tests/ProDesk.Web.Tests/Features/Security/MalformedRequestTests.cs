using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Security;

/// <summary>
/// Requests real clients and attackers send that the endpoints' own validation never sees: a NUL
/// character (which PostgreSQL's text refuses), a JSON value of the wrong type, a query value that does
/// not bind, a multipart body cut short, a form value the form reader refuses. Each is a 4xx naming what
/// is wrong, on PostgreSQL, and changes nothing.
/// </summary>
public sealed class MalformedRequestTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<HttpClient> AgentAsync() => App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);

    private static async Task<JsonElement> ErrorsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.GetProperty("errors").Clone();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_nul_character_in_a_json_string_is_refused_naming_the_field_and_nothing_is_stored()
    {
        var client = await App.IntegrationClientAsync("acme");
        var created = await client.PostAsync("/api/v1/tenants/acme/conversations",
            Json("""{"from":"marie@example.fr","subject":"a\u0000b","body":"Drip","externalId":"nul-1"}"""));
        Assert.Equal("must not contain a NUL character", (await ErrorsAsync(created)).GetProperty("subject")[0].GetString());

        var agent = await AgentAsync();
        var item = await (await client.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "marie@example.fr", subject = "Leak", body = "Drip", externalId = "nul-2" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var reply = await agent.PostAsync($"/api/v1/tenants/acme/work-items/{item.GetProperty("id").GetGuid()}/replies", Json("""{"body":"x\u0000"}"""));
        Assert.True((await ErrorsAsync(reply)).TryGetProperty("body", out _));

        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync()));
    }

    [Fact]
    public async Task A_json_value_of_the_wrong_type_names_the_field()
    {
        var client = await App.IntegrationClientAsync("acme");
        var response = await client.PostAsync("/api/v1/tenants/acme/conversations", Json("""{"from":1,"subject":"s","body":"b","externalId":"x"}"""));
        Assert.Equal("must be a string", (await ErrorsAsync(response)).GetProperty("from")[0].GetString());
    }

    [Fact]
    public async Task A_number_or_flag_of_the_wrong_shape_says_what_the_field_takes_not_that_the_json_is_broken()
    {
        var id = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "shape-1");
        var agent = await AgentAsync();
        foreach (var version in new[] { "1.5", "1e3", "99999999999999999999" })
        {
            var reply = await agent.PostAsync($"/api/v1/tenants/acme/work-items/{id}/replies", Json($$"""{"body":"Hello","version":{{version}}}"""));
            Assert.Equal("must be a whole number in range", (await ErrorsAsync(reply)).GetProperty("version")[0].GetString());
        }

        var forced = await agent.PostAsync($"/api/v1/tenants/acme/work-items/{id}/replies", Json("""{"body":"Hello","force":1}"""));
        Assert.Equal("must be true or false", (await ErrorsAsync(forced)).GetProperty("force")[0].GetString());
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync()));

        // One entry of a list is named, and described as what the entry should be.
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var policy = await admin.PutAsync("/api/v1/tenants/acme/sla/policies/support/Normal", Json("""{"firstResponseMinutes":60,"warningPercents":[75,1.5]}"""));
        Assert.Equal("must be a whole number in range", (await ErrorsAsync(policy)).GetProperty("warningPercents[1]")[0].GetString());
    }

    [Fact]
    public async Task A_misspelt_property_is_refused_with_the_one_it_meant_and_nothing_is_stored_or_cleared()
    {
        // A PUT sets what it names and clears what it leaves out: "emial" used to erase the contact's email, so the
        // customer's next mail made a second contact.
        await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "typo-1");
        var contact = await App.InTenantAsync("acme", db => db.Contacts.SingleAsync());
        var agent = await AgentAsync();
        var typo = await agent.PutAsync($"/api/v1/tenants/acme/contacts/{contact.Id}", Json("""{"name":"Marie Curie","emial":"marie@example.fr"}"""));
        Assert.Equal("is not a property of this request (did you mean 'email'?)", (await ErrorsAsync(typo)).GetProperty("emial")[0].GetString());
        Assert.Equal(contact.Email, await App.InTenantAsync("acme", db => db.Contacts.Select(c => c.Email).SingleAsync()));

        // On a PUT an absent target means "no clock": a typo used to save a policy without a resolution target.
        var admin = App.CreateClient().WithBearer((await App.PatAsync("admin@prodesk.test")).Secret);
        var before = await App.InTenantAsync("acme", db => db.SlaPolicies.CountAsync());
        var put = await admin.PutAsync("/api/v1/tenants/acme/sla/policies/support/Normal",
            Json("""{"firstResponseMinutes":60,"resolutionMinutez":1440}"""));
        Assert.Equal("is not a property of this request (did you mean 'resolutionMinutes'?)", (await ErrorsAsync(put)).GetProperty("resolutionMinutez")[0].GetString());
        var nested = await admin.PutAsync("/api/v1/tenants/acme/sla/policies/support/Normal",
            Json("""{"firstResponseMinutes":60,"resolutionMinutes":1440,"escalations":[{"on":"breach","action":"notifySupervisors","when":"now"}]}"""));
        Assert.StartsWith("is not a property of this request", (await ErrorsAsync(nested)).GetProperty("escalations[0].when")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await App.InTenantAsync("acme", db => db.SlaPolicies.CountAsync()));

        // A queue named in capitals is the same queue, as a slug or priority in capitals is.
        var capitals = await admin.PutAsync("/api/v1/tenants/ACME/sla/policies/SUPPORT/normal", Json("""{"firstResponseMinutes":61,"resolutionMinutes":1440}"""));
        Assert.Equal(HttpStatusCode.OK, capitals.StatusCode);
        Assert.Equal("support", (await capitals.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("queue").GetString());
    }

    [Theory]
    [InlineData("""{"from":"marie@example.fr","subject":"Leak","subject":"Fire","body":"b","externalId":"dup-1"}""", "subject")]
    [InlineData("""{"from":"marie@example.fr","subject":"Leak","Subject":"Fire","body":"b","externalId":"dup-1"}""", "Subject")]
    public async Task A_property_given_twice_is_refused_by_name_and_nothing_is_stored(string json, string field)
    {
        // A proxy or validator in front may read the first value where the desk would have stored the last.
        var client = await App.IntegrationClientAsync("acme");
        var response = await client.PostAsync("/api/v1/tenants/acme/conversations", Json(json));
        Assert.StartsWith("is given more than once", (await ErrorsAsync(response)).GetProperty(field)[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    [Theory]
    [InlineData("/api/v1/tenants/acme/work-items?limit=abc", "limit")]
    [InlineData("/api/v1/tenants/acme/work-items?limit=99999999999", "limit")]
    [InlineData("/api/v1/tenants/acme/work-items?queue=%00", "queue")]
    [InlineData("/api/v1/tenants/acme/contacts?q=a%00", "q")]
    public async Task A_query_value_that_cannot_be_used_names_the_parameter(string path, string parameter)
    {
        var errors = await ErrorsAsync(await (await AgentAsync()).GetAsync(path));
        Assert.True(errors.TryGetProperty(parameter, out _), errors.ToString());
    }

    [Fact]
    public async Task A_cursor_holding_a_nul_is_refused_like_any_forged_cursor()
    {
        var cursor = System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"s:{Guid.NewGuid():N}:a\0b"));
        var errors = await ErrorsAsync(await (await AgentAsync()).GetAsync($"/api/v1/tenants/acme/contacts?cursor={cursor}"));
        Assert.True(errors.TryGetProperty("cursor", out _));
    }

    [Fact]
    public async Task A_null_tag_and_an_out_of_range_number_field_are_refused_by_name()
    {
        var client = await App.IntegrationClientAsync("acme");
        var item = await (await client.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "marie@example.fr", subject = "Leak", body = "Drip", externalId = "tags-1" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var agent = await AgentAsync();
        var id = item.GetProperty("id").GetGuid();

        var tags = await agent.PutAsync($"/api/v1/tenants/acme/work-items/{id}/tags", Json("""{"tags":["vip",null]}"""));
        Assert.True((await ErrorsAsync(tags)).TryGetProperty("tags[1]", out _));

        // acme's demo "estimate" field is a number; 1e300 is a JSON number past any decimal.
        var fields = await agent.PutAsync($"/api/v1/tenants/acme/work-items/{id}/fields", Json("""{"fields":{"estimate":1e300}}"""));
        Assert.StartsWith("must be a number from -7.9e28 to 7.9e28", (await ErrorsAsync(fields)).GetProperty("fields.estimate")[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("999")]
    [InlineData("Conversation,Invoice")]
    public async Task Claim_next_with_an_unknown_kind_is_refused_and_claims_nothing(string kind)
    {
        var integration = await App.IntegrationClientAsync("acme");
        Assert.True((await integration.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "a@example.fr", subject = "s", body = "b", externalId = "k-1" })).IsSuccessStatusCode);

        var response = await (await AgentAsync()).PostAsync($"/api/v1/work/next?kind={Uri.EscapeDataString(kind)}", null);
        Assert.True((await ErrorsAsync(response)).TryGetProperty("kind", out _));
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync(w => w.AssigneeId != null)));
    }

    [Fact]
    public async Task A_multipart_body_cut_short_is_a_client_error_on_every_form_route()
    {
        var client = await App.IntegrationClientAsync("acme");
        var item = await (await client.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "marie@example.fr", subject = "Leak", body = "Drip", externalId = "mp-1" }))
            .Content.ReadFromJsonAsync<JsonElement>();

        HttpContent Truncated()
        {
            var content = new ByteArrayContent("--BND\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nx\r\n"u8.ToArray());
            content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=BND");
            return content;
        }

        var attachment = await (await AgentAsync()).PostAsync($"/api/v1/tenants/acme/work-items/{item.GetProperty("id").GetGuid()}/attachments", Truncated());
        Assert.True((await ErrorsAsync(attachment)).TryGetProperty("file", out _));

        var form = await App.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Post, "/channels/webform/acme") { Content = Truncated(), Headers = { { "Accept", "application/json" } } });
        Assert.Equal(HttpStatusCode.BadRequest, form.StatusCode);

        // Said as what it is, before any tenant or signature is looked at.
        var sms = await App.CreateClient().PostAsync("/channels/sms/acme/twilio", Truncated());
        Assert.Equal(HttpStatusCode.BadRequest, sms.StatusCode);
        Assert.StartsWith("form:", JsonDocument.Parse(await sms.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    [Fact]
    public async Task A_token_request_whose_form_the_reader_refuses_is_an_oauth_invalid_request()
    {
        var response = await App.CreateClient().PostAsync("/connect/token",
            new StringContent("grant_type=client_credentials&client_id=a%00b&client_secret=x", Encoding.ASCII, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("", "x")]
    [InlineData("agent1@prodesk.test", "")]
    public async Task Signing_in_with_an_empty_field_is_refused_on_the_page(string email, string password)
    {
        var response = await App.Client().PostLoginAsync(email, password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Invalid email or password.", Browserless.LoginMessage(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task A_compressed_body_is_refused_as_an_unsupported_coding_and_nothing_is_stored()
    {
        var client = await App.IntegrationClientAsync("acme");
        var content = Json("""{"from":"marie@example.fr","subject":"Zipped","body":"Drip","externalId":"gz-1"}""");
        content.Headers.ContentEncoding.Add("gzip");
        var response = await client.PostAsync("/api/v1/tenants/acme/conversations", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    [Fact]
    public async Task Invisible_only_text_is_refused_as_a_subject_a_body_a_reply_and_a_note()
    {
        var client = await App.IntegrationClientAsync("acme");
        var invisible = await client.PostAsync("/api/v1/tenants/acme/conversations",
            Json("""{"from":"marie@example.fr","subject":"\u200b","body":"\ufeff\u2060","externalId":"blank-1"}"""));
        var errors = await ErrorsAsync(invisible);
        Assert.True(errors.TryGetProperty("subject", out _));
        Assert.True(errors.TryGetProperty("body", out _));

        var item = await (await client.PostAsJsonAsync("/api/v1/tenants/acme/conversations", new { from = "marie@example.fr", subject = "Leak", body = "Drip", externalId = "blank-2" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var agent = await AgentAsync();
        foreach (var kind in new[] { "replies", "notes" })
        {
            var answer = await agent.PostAsync($"/api/v1/tenants/acme/work-items/{item.GetProperty("id").GetGuid()}/{kind}", Json("""{"body":"\u200b "}"""));
            Assert.True((await ErrorsAsync(answer)).TryGetProperty("body", out _));
        }

        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItemMessages.CountAsync()));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("utf-7")]
    [InlineData("")]
    public async Task A_json_body_in_a_charset_the_server_cannot_read_is_refused_and_nothing_is_stored(string charset)
    {
        var client = await App.IntegrationClientAsync("acme");
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"from":"marie@example.fr","subject":"Charset","body":"Drip","externalId":"cs-1"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");

        var response = await client.PostAsync("/api/v1/tenants/acme/conversations", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    [Theory]
    [InlineData("/channels/webform/acme")]
    [InlineData("/channels/sms/acme/twilio")]
    [InlineData("/login")]
    public async Task A_form_in_utf7_is_refused_with_a_reason_not_a_server_error(string path)
    {
        // UTF-7, which .NET no longer reads, failed every public form as a 500 (probe round 17).
        var key = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.SeedDirectory, "acme", "channels.json"))).RootElement.GetProperty("widgetKey").GetString();
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes($"key={key}&email=m%40example.org&message=x"));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded; charset=utf-7");

        var response = await App.CreateClient().PostAsync(path, content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("utf-7", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync()));
    }

    [Theory]
    [InlineData("\"utf-8\"")]
    [InlineData("UTF-8")]
    [InlineData("iso-8859-1")]
    public async Task A_json_body_in_a_charset_written_any_legal_way_is_read(string charset)
    {
        var client = await App.IntegrationClientAsync("acme");
        var encoding = charset.Contains("8859", StringComparison.Ordinal) ? Encoding.Latin1 : Encoding.UTF8;
        var content = new ByteArrayContent(encoding.GetBytes("""{"from":"marie@example.fr","subject":"Crème brûlée","body":"Drip","externalId":"cs-2"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}");

        var response = await client.PostAsync("/api/v1/tenants/acme/conversations", content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("Crème brûlée", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("subject").GetString());
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("42")]
    public async Task A_body_that_is_no_json_object_is_named_as_the_whole_request_not_as_the_body_field(string json)
    {
        var client = await App.IntegrationClientAsync("acme");
        var errors = await ErrorsAsync(await client.PostAsync("/api/v1/tenants/acme/conversations", Json(json)));
        Assert.True(errors.TryGetProperty("$", out _), errors.GetRawText());
        Assert.False(errors.TryGetProperty("body", out _), errors.GetRawText());
    }

    [Fact]
    public async Task Claim_next_with_the_contracts_empty_kind_claims_any_kind_and_a_misspelt_kind_is_refused()
    {
        var client = await App.IntegrationClientAsync("acme");
        await client.CreateConversationAsync("acme", "kind-empty-1");
        var agent = await AgentAsync();
        Assert.True((await ErrorsAsync(await agent.PostAsync("/api/v1/work/next?kind=Conversaton", null))).TryGetProperty("kind", out _));
        Assert.Equal(0, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync(w => w.AssigneeId != null)));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync("/api/v1/work/next?kind=", null)).StatusCode);
        Assert.Equal(1, await App.InTenantAsync("acme", db => db.WorkItems.CountAsync(w => w.AssigneeId != null)));
    }

    [Fact]
    public async Task Terminal_and_bidi_control_characters_in_an_api_conversation_are_not_stored()
    {
        var client = await App.IntegrationClientAsync("acme");
        var response = await client.PostAsync("/api/v1/tenants/acme/conversations",
            Json("""{"from":"marie@example.fr","name":"Ma\u001b[31mrie\u202e","subject":"a\u0001\u0007\u001bb\u202egpj.exe","body":"line\u001b[2J\r\nnext","externalId":"ctl-1"}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var item = await App.InTenantAsync("acme", db => db.WorkItems.Select(w => new { w.Subject, Body = db.WorkItemMessages.Where(m => m.WorkItemId == w.Id).Select(m => m.Body).First() }).SingleAsync());
        // A right-to-left override in a subject or a name would turn the rest of the line around in the queue.
        Assert.Equal("abgpj.exe", item.Subject);
        Assert.Equal("line[2J\nnext", item.Body);
        Assert.Equal("Ma[31mrie", await App.InTenantAsync("acme", db => db.Contacts.Where(c => c.Email == "marie@example.fr").Select(c => c.Name).SingleAsync()));
    }

    [Fact]
    public async Task An_agents_note_reply_and_custom_field_keep_no_terminal_controls_and_a_field_keeps_no_bidi_controls()
    {
        var client = await App.IntegrationClientAsync("acme");
        var id = await client.CreateConversationAsync("acme", "ctl-agent-1");
        var agent = await AgentAsync();
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync($"/api/v1/tenants/acme/work-items/{id}/notes", Json("""{"body":"N\u001b[2J\u0007ote"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync($"/api/v1/tenants/acme/work-items/{id}/replies", Json("""{"body":"R\u001b[31meply"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync($"/api/v1/tenants/acme/work-items/{id}/fields",
            Json("""{"fields":{"contract-number":"x\u202e\u001b[31m\u0007y\u2028z"}}"""))).StatusCode);
        // Nothing but controls is no body.
        Assert.True((await ErrorsAsync(await agent.PostAsync($"/api/v1/tenants/acme/work-items/{id}/notes", Json("""{"body":"\u001b\u0007"}""")))).TryGetProperty("body", out _));

        var item = await agent.JsonAsync($"/api/v1/tenants/acme/work-items/{id}");
        var bodies = item.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("body").GetString()).ToList();
        Assert.Contains("N[2Jote", bodies);
        Assert.Contains("R[31meply", bodies);
        Assert.Equal("x[31my z", item.GetProperty("fields").GetProperty("contract-number").GetString());
    }

    [Fact]
    public async Task An_unknown_queue_filter_and_a_flood_of_unknown_fields_are_refused_briefly()
    {
        var agent = await AgentAsync();
        var errors = await ErrorsAsync(await agent.GetAsync("/api/v1/tenants/acme/work-items?queue=nosuch"));
        Assert.Contains("support", errors.GetProperty("queue")[0].GetString(), StringComparison.Ordinal);

        var id = await (await App.IntegrationClientAsync("acme")).CreateConversationAsync("acme", "flood-1");
        var fields = string.Join(',', Enumerable.Range(0, 2_000).Select(i => $"\"k{i}\":1"));
        var flood = await ErrorsAsync(await agent.PutAsync($"/api/v1/tenants/acme/work-items/{id}/fields", Json("{\"fields\":{" + fields + "}}")));
        Assert.Equal(51, flood.EnumerateObject().Count()); // 50 named, and one line saying there are more
        Assert.True(flood.TryGetProperty("fields", out _));
    }

    [Theory]
    [InlineData("/t/acme")]
    [InlineData("/login")]
    [InlineData("/api/v1/me")]
    public async Task Trace_is_not_allowed(string path)
    {
        var response = await App.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Trace, path));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task An_emoji_at_a_columns_limit_is_kept_whole_or_dropped_never_halved()
    {
        var key = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Repository.SeedDirectory, "acme", "channels.json"))).RootElement.GetProperty("inboundKey").GetString()!;
        // The cut keeps 399 characters and a "…": the emoji's two halves straddle that line.
        var subject = new string('s', 398) + "\U0001F600 tail";
        var mail = $"From: Zoe <zoe@example.org>\r\nTo: support@acme.test\r\nSubject: =?UTF-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(subject))}?=\r\n" +
                   "Message-ID: <emoji-cut-1@example.org>\r\nDate: Mon, 30 Nov 2026 08:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/email/acme/inbound") { Content = new StringContent(mail, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        request.Headers.Add("X-ProDesk-Key", key);
        var response = await App.CreateClient().SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        var stored = await App.InTenantAsync("acme", db => db.WorkItems.Select(w => w.Subject).SingleAsync());
        Assert.Equal(new string('s', 398) + "…", stored);
    }

    [Fact]
    public async Task An_address_or_header_too_long_is_refused_saying_which_and_how_long_while_a_long_one_within_the_limit_is_answered()
    {
        var agent = await AgentAsync();
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync($"/api/v1/me?note={new string('a', 7000)}")).StatusCode);

        var longAddress = await agent.GetAsync($"/api/v1/me?note={new string('a', 9000)}");
        Assert.Equal(HttpStatusCode.RequestUriTooLong, longAddress.StatusCode);
        Assert.Equal("application/problem+json", longAddress.Content.Headers.ContentType?.MediaType);
        var query = JsonDocument.Parse(await longAddress.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").GetProperty("query")[0].GetString();
        Assert.Contains("at most 8192", query);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        request.Headers.Add("X-Tracking", new string('t', 40_000));
        var largeHeaders = await agent.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, largeHeaders.StatusCode);
        var errors = JsonDocument.Parse(await largeHeaders.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Contains("X-Tracking the largest", errors.GetProperty("X-Tracking")[0].GetString());
    }
}
