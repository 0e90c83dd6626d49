using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ProDesk.Web.Tests.Infrastructure;

namespace ProDesk.Web.Tests.Features.WorkItems;

/// <summary>
/// The console finds closed conversations as well as open ones, by the reference the customer was given, by the
/// customer and by subject, only among the clients the agent serves; an item lists the customer's other conversations.
/// </summary>
public sealed class ConsoleSearchTests(ProDeskApp app) : PostgresTest(app)
{
    private async Task<Guid> ConversationAsync(string slug, string from, string name, string subject)
    {
        var integration = await App.IntegrationClientAsync(slug);
        var response = await integration.PostAsJsonAsync($"/api/v1/tenants/{slug}/conversations", new { from, name, subject, body = "Please help.", externalId = Guid.NewGuid().ToString() });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task An_agent_finds_a_closed_conversation_by_its_reference_its_customer_or_its_subject_but_never_another_clients()
    {
        var closed = await ConversationAsync("acme", "zoe@example.fr", "Zoë Müller", "Chauffe-eau en panne");
        var staff = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        foreach (var status in new[] { "Solved", "Closed" })
        {
            Assert.Equal(HttpStatusCode.OK, (await staff.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{closed}/status", new { status })).StatusCode);
        }

        var northwind = await ConversationAsync("northwind", "zoe@example.fr", "Zoë Müller", "Chauffe-eau northwind");
        // agent3 serves merlion and sla-lab only; agent2 serves acme and northwind.
        var agent2 = await App.SignedInAsync("agent2@prodesk.test");

        foreach (var query in new[] { closed.ToString(), $"{{{closed.ToString().ToUpperInvariant()}}}", "ZOE@example.fr", "müller", "chauffe-eau en"})
        {
            var page = await agent2.GetStringAsync($"/agent/search?q={Uri.EscapeDataString(query)}");
            Assert.True(page.Contains($"/agent/items/acme/{closed}", StringComparison.Ordinal), $"{query}: not found");
        }

        var both = await agent2.GetStringAsync("/agent/search?q=chauffe-eau");
        Assert.Contains($"/agent/items/northwind/{northwind}", both, StringComparison.Ordinal);

        var agent3 = await App.SignedInAsync("agent3@prodesk.test");
        var elsewhere = await agent3.GetStringAsync($"/agent/search?q={closed}");
        Assert.DoesNotContain($"/agent/items/acme/{closed}", elsewhere, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"search-empty\"", elsewhere, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"search-empty\"", await agent3.GetStringAsync("/agent/search?q=chauffe-eau"), StringComparison.Ordinal);

        var tooLong = await agent2.GetStringAsync($"/agent/search?q={new string('x', 201)}");
        Assert.Contains("data-testid=\"search-problem\"", tooLong, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_item_lists_the_customers_other_conversations_closed_ones_included()
    {
        var first = await ConversationAsync("acme", "zoe@example.fr", "Zoë", "First problem");
        var staff = App.CreateClient().WithBearer((await App.PatAsync("agent1@prodesk.test")).Secret);
        foreach (var status in new[] { "Solved", "Closed" })
        {
            Assert.Equal(HttpStatusCode.OK, (await staff.PostAsJsonAsync($"/api/v1/tenants/acme/work-items/{first}/status", new { status })).StatusCode);
        }

        var second = await ConversationAsync("acme", "zoe@example.fr", "Zoë", "Second problem");
        var stranger = await ConversationAsync("acme", "someone@example.fr", "Someone", "Not hers");
        var agent = await App.SignedInAsync("agent2@prodesk.test");

        var page = await agent.GetStringAsync($"/agent/items/acme/{second}");

        Assert.Contains("data-testid=\"other-items\"", page, StringComparison.Ordinal);
        Assert.Contains($"/agent/items/acme/{first}", page, StringComparison.Ordinal);
        Assert.DoesNotContain($"/agent/items/acme/{stranger}", page, StringComparison.Ordinal);
        Assert.DoesNotContain($"/agent/items/acme/{second}\" dir", page, StringComparison.Ordinal);
    }
}
