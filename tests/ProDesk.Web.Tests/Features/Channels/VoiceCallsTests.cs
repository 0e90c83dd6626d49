using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ProDesk.Data.WorkItems;
using ProDesk.Domain.WorkItems;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Channels.Voice;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// The voice route as a client's telephony system uses it: each call taken or missed for the client is a secretary
/// task in the client's secretary queue, once however often the record is posted, with the caller as a contact.
/// </summary>
public sealed class VoiceCallsTests(ProDeskApp app) : PostgresTest(app)
{
    private const string AcmeKey = "demo-acme-inbound-key-0123456789";
    private const string MerlionKey = "demo-merlion-inbound-key-0123456789";
    private const string NorthwindKey = "demo-northwind-inbound-key-0123456789";

    private async Task<HttpResponseMessage> PostAsync(object record, string slug = "acme", string key = AcmeKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/voice/{slug}/calls")
        {
            Content = record is string raw ? new StringContent(raw, Encoding.UTF8, "application/json") : JsonContent.Create(record),
        };
        request.Headers.Add(EmailInboundApi.KeyHeader, key);
        return await App.CreateClient().SendAsync(request);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private Task<List<WorkItem>> CallsAsync(string slug) =>
        App.InTenantAsync(slug, db => db.WorkItems.AsNoTracking().Include(w => w.Messages).Where(w => w.Channel == VoiceCallsApi.Channel).OrderBy(w => w.CreatedAt).ToListAsync());

    private Task<string> QueueOfAsync(string slug, Guid queueId) =>
        App.InTenantAsync(slug, db => db.Queues.Where(q => q.Id == queueId).Select(q => q.Key).SingleAsync());

    [Fact]
    public async Task A_call_taken_for_the_client_is_a_secretary_task_once_however_often_it_is_posted()
    {
        var record = new
        {
            callId = "CA-2026-11-29-0001",
            from = "06 12 34 56 78",
            callerName = "Jean Dupont",
            to = "+33 1 23 45 67 89",
            startedAt = "2026-11-29T09:15:00Z",
            durationSeconds = 125,
            outcome = "answered",
            message = "Please call back about the boiler service on Friday.",
            recordingUrl = "https://pbx.example.fr/recordings/CA-0001.mp3",
        };

        var first = await PostAsync(record);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var answer = await JsonAsync(first);
        var itemId = answer.GetProperty("workItemId").GetGuid();
        Assert.Equal("created", answer.GetProperty("outcome").GetString());
        Assert.Equal("secretary", answer.GetProperty("queue").GetString());
        Assert.Equal($"/api/v1/tenants/acme/work-items/{itemId}", first.Headers.Location?.OriginalString);

        var again = await PostAsync(record);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(itemId, (await JsonAsync(again)).GetProperty("workItemId").GetGuid());
        Assert.Equal("duplicate", (await JsonAsync(again)).GetProperty("outcome").GetString());

        var item = Assert.Single(await CallsAsync("acme"));
        Assert.Equal(itemId, item.Id);
        Assert.Equal(WorkItemKind.SecretaryTask, item.Kind);
        Assert.Equal("secretary", await QueueOfAsync("acme", item.QueueId));
        Assert.Equal("Call from Jean Dupont", item.Subject);
        var message = Assert.Single(item.Messages);
        Assert.StartsWith("Please call back about the boiler service on Friday.", message.Body, StringComparison.Ordinal);
        // The client's people read the time on their own clock (acme is in Paris: UTC+1 in November).
        Assert.Contains("At: 2026-11-29 10:15 (Europe/Paris)", message.Body, StringComparison.Ordinal);
        Assert.Contains("Duration: 2 min 5 s", message.Body, StringComparison.Ordinal);
        Assert.Contains("Recording: https://pbx.example.fr/recordings/CA-0001.mp3", message.Body, StringComparison.Ordinal);
        Assert.Equal("Jean Dupont", message.AuthorName);

        // The caller is a contact by their number, completed to E.164 in the client's country, as an SMS from them would be.
        var contact = await App.InTenantAsync("acme", db => db.Contacts.AsNoTracking().SingleAsync(c => c.Id == item.ContactId));
        Assert.Equal("+33612345678", contact.Phone);
        Assert.Equal("Jean Dupont", contact.Name);

        // A caller is answered by calling back: nothing is sent to them.
        Assert.False(await App.InTenantAsync("acme", db => db.OutboundMessages.AnyAsync(o => o.WorkItemId == itemId)));
        // The secretary queue's SLA runs on it, as on any task.
        Assert.NotNull(item.DueAt);
    }

    [Fact]
    public async Task Calls_from_one_number_are_one_contact_and_a_task_each()
    {
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(new { callId = "CA-1", from = "+33612345678", outcome = "missed" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(new { callId = "CA-2", from = "+33 6 12 34 56 78", outcome = "voicemail", message = "It's Jean again." })).StatusCode);

        var calls = await CallsAsync("acme");
        Assert.Equal(2, calls.Count);
        Assert.Single(calls.Select(c => c.ContactId).Distinct());
        Assert.Equal(["Missed call from +33612345678", "Voicemail from +33612345678"], calls.Select(c => c.Subject));
        Assert.Contains("It's Jean again.", calls[1].Messages.Single().Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_withheld_caller_is_known_by_the_number_they_left_or_else_as_a_withheld_number()
    {
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(new { callId = "CA-w1", from = "anonymous", callerName = "Mme Martin", outcome = "missed" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(new { callId = "CA-w2", from = "Private", callerName = "M. Petit", message = "Wants a quote." })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(new { callId = "CA-w3", from = "anonymous", callerName = "Paul Roux", callbackNumber = "+44 20 7946 0958", message = "Call me back." })).StatusCode);

        var calls = await CallsAsync("acme");
        Assert.Equal(["Missed call from Mme Martin", "Call from M. Petit", "Call from Paul Roux"], calls.Select(c => c.Subject));
        var contacts = await App.InTenantAsync("acme", db => db.Contacts.AsNoTracking().Where(c => calls.Select(k => k.ContactId).Contains(c.Id)).ToListAsync());

        // The two who left no number share the withheld calls' contact, which is named for what it is, not for its first caller.
        Assert.Equal(calls[0].ContactId, calls[1].ContactId);
        var withheld = contacts.Single(c => c.Id == calls[0].ContactId);
        Assert.Equal(VoiceCallsApi.WithheldContactName, withheld.Name);
        Assert.Contains("Call back on: no number left", calls[0].Messages.Single().Body, StringComparison.Ordinal);

        var known = contacts.Single(c => c.Id == calls[2].ContactId);
        Assert.Equal("+442079460958", known.Phone);
        Assert.Equal("Paul Roux", known.Name);
    }

    [Fact]
    public async Task A_start_time_without_an_offset_is_the_clients_own_clock()
    {
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(new { callId = "CA-local", from = "+33612345678", startedAt = "2026-11-29T10:15:00" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(new { callId = "CA-offset", from = "+33612345678", startedAt = "2026-11-29T04:15:00-05:00" })).StatusCode);

        var calls = await CallsAsync("acme");
        Assert.All(calls, c => Assert.Contains("At: 2026-11-29 10:15 (Europe/Paris)", c.Messages.Single().Body, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_without_a_secretary_queue_gets_calls_in_its_default_queue_and_a_named_queue_is_used()
    {
        var northwind = await PostAsync(new { callId = "CA-nw", from = "+12125550123" }, "northwind", NorthwindKey);
        Assert.Equal(HttpStatusCode.Created, northwind.StatusCode);
        var defaultQueue = await App.InTenantAsync("northwind", db => db.Queues.Where(q => q.IsDefault).Select(q => q.Key).SingleAsync());
        Assert.Equal(defaultQueue, (await JsonAsync(northwind)).GetProperty("queue").GetString());

        var billing = await PostAsync(new { callId = "CA-bill", from = "+33612345678", queue = "billing" });
        Assert.Equal(HttpStatusCode.Created, billing.StatusCode);
        Assert.Equal("billing", await QueueOfAsync("acme", Assert.Single(await CallsAsync("acme")).QueueId));
    }

    [Fact]
    public async Task Another_clients_key_a_wrong_key_and_an_unknown_client_get_one_refusal_and_store_nothing()
    {
        var record = new { callId = "CA-x", from = "+33612345678" };
        var answers = new[]
        {
            await PostAsync(record, "acme", MerlionKey),
            await PostAsync(record, "acme", "not-the-key"),
            await PostAsync(record, "no-such-client", AcmeKey),
        };

        foreach (var answer in answers)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
            Assert.Equal("Unknown tenant or wrong inbound key", (await JsonAsync(answer)).GetProperty("title").GetString());
        }

        Assert.Empty(await CallsAsync("acme"));
        Assert.Empty(await CallsAsync("merlion"));
    }

    [Theory]
    [InlineData("""{"from":"+33612345678"}""", "callId")]
    [InlineData("""{"callId":"CA 1","from":"+33612345678"}""", "callId")]
    [InlineData("""{"callId":"CA-1"}""", "from")]
    [InlineData("""{"callId":"CA-1","from":"call me maybe"}""", "from")]
    [InlineData("""{"callId":"CA-1","from":"anonymous","callbackNumber":"soon"}""", "callbackNumber")]
    [InlineData("""{"callId":"CA-1","from":"+33612345678","outcome":"hung up"}""", "outcome")]
    [InlineData("""{"callId":"CA-1","from":"+33612345678","durationSeconds":-5}""", "durationSeconds")]
    [InlineData("""{"callId":"CA-1","from":"+33612345678","durationSeconds":"long"}""", "durationSeconds")]
    [InlineData("""{"callId":"CA-1","from":"+33612345678","recordingUrl":"javascript:alert(1)"}""", "recordingUrl")]
    [InlineData("""{"callId":"CA-1","from":"+33612345678","queue":"no-such-queue"}""", "queue")]
    [InlineData("""{"callId":"CA-1","from":"+33612345678","startedAt":"yesterday"}""", "startedAt")]
    public async Task A_wrong_call_record_is_refused_naming_the_field_and_stores_nothing(string json, string field)
    {
        var response = await PostAsync(json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await JsonAsync(response)).GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());
        Assert.Empty(await CallsAsync("acme"));
    }

    [Fact]
    public async Task A_record_that_is_not_json_is_refused_with_415()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/voice/acme/calls")
        {
            Content = new StringContent("callId=CA-1&from=%2B33612345678", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Add(EmailInboundApi.KeyHeader, AcmeKey);
        var response = await App.CreateClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Empty(await CallsAsync("acme"));
    }
}
