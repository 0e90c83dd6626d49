using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using ProDesk.Web.Channels.Email;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// A survey closes Csat:SurveyDays (28) days after the solve its link asks about, on the test clock: an old link
/// shows a page saying so and records nothing, so months-old solves' figures stay as they were.
/// </summary>
public sealed partial class CsatSurveyClosingTests(SlaApp app) : SlaTest(app)
{
    private const string AcmeKey = "demo-acme-inbound-key-0123456789";

    [Fact]
    public async Task A_link_takes_a_rating_for_28_days_after_its_solve_then_shows_that_the_survey_closed()
    {
        var (itemId, link) = await SolvedAsync(App.CreateClient());
        App.Clock.Advance(TimeSpan.FromDays(28) - TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(App.Client(), link)).StatusCode);
        Assert.Equal([4], await ScoresAsync(itemId));
        var leftOpen = App.Client();
        var token = await Browserless.AntiforgeryTokenAsync(leftOpen, link);

        App.Clock.Advance(TimeSpan.FromMinutes(2));
        var opened = await App.Client().GetAsync(link);
        Assert.Equal(HttpStatusCode.Gone, opened.StatusCode);
        var page = await opened.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"csat-closed\"", page, StringComparison.Ordinal);
        Assert.Contains("This survey has closed", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<form", page, StringComparison.Ordinal);

        // A send from a page opened before it closed records nothing either: the earlier rating stays.
        var late = await leftOpen.PostAsync(link, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["rating"] = "1",
            ["comment"] = "too late",
            ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        Assert.Contains("data-testid=\"csat-closed\"", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal([4], await ScoresAsync(itemId));
    }

    [Fact]
    public async Task A_provider_that_sets_fewer_survey_days_has_its_links_close_that_much_sooner()
    {
        var (itemId, link) = await SolvedAsync(App.CreateClient());
        var token = link.Split('/')[2];
        App.Clock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));

        // The rating service as Csat:SurveyDays = 7 configures it (the fixture's host keeps its 28: a second host of it
        // would take the shared meter's gauges with it when disposed, OpenTelemetry .NET issue 6412).
        await using var scope = App.Services.CreateAsyncScope();
        var week = ActivatorUtilities.CreateInstance<ProDesk.Web.Csat.RecordCsatRating>(scope.ServiceProvider,
            Microsoft.Extensions.Options.Options.Create(new ProDesk.Web.Csat.CsatOptions { SurveyDays = 7 }));
        var rated = await week.HandleAsync(token, 4, null, setComment: false, CancellationToken.None);
        Assert.True(rated is { Closed: true, Recorded: false }, $"{rated}");
        Assert.Empty(await ScoresAsync(itemId));

        // Under the fixture's 28 days the same link still takes the rating.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(App.Client(), link)).StatusCode);
        Assert.Equal([4], await ScoresAsync(itemId));
    }

    /// <summary>A customer's mail solved by an agent; returns the item and the path of its survey's "4" link.</summary>
    private async Task<(Guid ItemId, string Link)> SolvedAsync(HttpClient http)
    {
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress("Marie Curie", "marie@example.fr"));
        mail.To.Add(MailboxAddress.Parse("support@acme.test"));
        mail.Subject = "Leaking tap";
        mail.MessageId = $"{Guid.NewGuid():N}@mail.example.fr";
        mail.Body = new TextPart("plain") { Text = "The kitchen tap drips." };
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(mail.ToString()));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/email/acme/inbound") { Content = content };
        request.Headers.Add(EmailInboundApi.KeyHeader, AcmeKey);
        var created = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var itemId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("workItemId").GetGuid();

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await App.PatAsync("agent2@prodesk.test")).Secret);
        (await http.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{itemId}/status", new { status = "Solved" })).EnsureSuccessStatusCode();
        var body = await App.InTenantAsync("acme", db => db.OutboundMessages.AsNoTracking().Where(o => o.WorkItemId == itemId && o.Body.Contains("/csat/")).Select(o => o.Body).SingleAsync());
        return (itemId, new Uri(FourLink().Match(body).Value).PathAndQuery);
    }

    /// <summary>The customer's "Send my rating" on the page the link opened.</summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient customer, string link) =>
        await customer.PostAsync(link, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["rating"] = "4",
            ["comment"] = "",
            ["__RequestVerificationToken"] = await Browserless.AntiforgeryTokenAsync(customer, link),
        }));

    private Task<List<int>> ScoresAsync(Guid itemId) =>
        App.InTenantAsync("acme", db => db.CsatRatings.AsNoTracking().Where(r => r.WorkItemId == itemId).Select(r => r.Score).ToListAsync());

    [GeneratedRegex(@"https?://[^\s/]+/csat/[A-Za-z0-9_-]+/4")]
    private static partial Regex FourLink();
}
