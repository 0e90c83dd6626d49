using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR.Client;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ProDesk.Web.Tests.Infrastructure;

/// <summary>Signs in through the real /login form (antiforgery and all) and calls the API with tokens.</summary>
public static partial class Browserless
{
    public const string DemoPassword = "ProDesk-Demo-1!";

    /// <summary>A client with its own cookie jar that does not follow redirects, so tests see where they point.</summary>
    public static HttpClient Client(this WebApplicationFactory<Program> app) =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public static async Task<HttpResponseMessage> PostLoginAsync(this HttpClient client, string email, string password)
    {
        var token = await AntiforgeryTokenAsync(client, "/login");
        return await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Email"] = email,
            ["Password"] = password,
            ["__RequestVerificationToken"] = token,
        }));
    }

    public static async Task<HttpClient> SignedInAsync(this WebApplicationFactory<Program> app, string email, string password = DemoPassword)
    {
        var client = app.Client();
        var response = await client.PostLoginAsync(email, password);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"sign-in of {email} failed: {(int)response.StatusCode} {LoginMessage(await response.Content.ReadAsStringAsync())}");
        return client;
    }

    /// <summary>The sign-in cookie a login answer set, as a Cookie header names it ("prodesk=..."): what a thief would copy.</summary>
    public static string SessionCookie(HttpResponseMessage login) =>
        login.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])
            .Single(c => c.StartsWith(ProDesk.Web.Identity.IdentityExtensions.CookieName + "=", StringComparison.Ordinal));

    /// <summary>Signs <paramref name="client"/> out as the page's sign-out button does.</summary>
    public static async Task<HttpResponseMessage> PostLogoutAsync(this HttpClient client) =>
        await client.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = await AntiforgeryTokenAsync(client, "/agent"),
        }));

    public static async Task<string> AntiforgeryTokenAsync(HttpClient client, string page) =>
        AntiforgeryTokenIn(await client.GetStringAsync(page), page);

    /// <summary>The antiforgery token of a form in <paramref name="html"/> (the page at <paramref name="page"/>).</summary>
    public static string AntiforgeryTokenIn(string html, string page) =>
        AntiforgeryField().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException($"no antiforgery token on {page}");

    public static string? LoginMessage(string html) =>
        LoginMessageElement().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : null;

    public static HttpClient WithBearer(this HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public static async Task<JsonElement> JsonAsync(this HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public static async Task<JsonElement> ClientCredentialsAsync(this WebApplicationFactory<Program> app, string clientId, string secret)
    {
        var response = await app.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = secret,
            ["scope"] = "api",
        }));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>An API client acting as the tenant's integration client (client_credentials).</summary>
    public static async Task<HttpClient> IntegrationClientAsync(this WebApplicationFactory<Program> app, string slug) =>
        app.CreateClient().WithBearer((await app.ClientCredentialsAsync($"{slug}-integration", DemoSecret(slug))).GetProperty("access_token").GetString()!);

    /// <summary>Creates a conversation through the API channel and returns its id.</summary>
    public static async Task<Guid> CreateConversationAsync(this HttpClient integration, string slug, string externalId, string subject = "Leaking tap")
    {
        var response = await integration.PostAsJsonAsync($"/api/v1/tenants/{slug}/conversations", new { from = "customer@example.com", name = "A customer", subject, body = "Please help.", externalId });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
    }

    /// <summary>
    /// A connection to /hubs/agent through the test server with <paramref name="accessToken"/> (a PAT or an OAuth access
    /// token), not yet started. Long polling by default; <paramref name="webSocket"/> as browsers connect: one request,
    /// authenticated once, where long polling authenticates every poll again.
    /// </summary>
    public static HubConnection AgentHub(this WebApplicationFactory<Program> app, string accessToken, bool webSocket = false) =>
        webSocket
            ? AgentHubOverWebSocket(app, $"hubs/agent?access_token={accessToken}", cookie: null)
            : new HubConnectionBuilder()
                .WithUrl(new Uri(app.Server.BaseAddress, $"hubs/agent?access_token={accessToken}"), options =>
                {
                    options.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.LongPolling;
                    options.HttpMessageHandlerFactory = _ => app.Server.CreateHandler();
                })
                .Build();

    /// <summary>A connection to /hubs/agent as the console page opens it: a WebSocket carrying the sign-in cookie; not yet started.</summary>
    public static HubConnection AgentHubWithCookie(this WebApplicationFactory<Program> app, string cookie) =>
        AgentHubOverWebSocket(app, "hubs/agent", cookie);

    private static HubConnection AgentHubOverWebSocket(WebApplicationFactory<Program> app, string path, string? cookie) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(app.Server.BaseAddress, path), options =>
            {
                options.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
                options.SkipNegotiation = true;
                options.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var client = app.Server.CreateWebSocketClient();
                    client.ConfigureRequest = request =>
                    {
                        request.Headers.Origin = app.Server.BaseAddress.GetLeftPart(UriPartial.Authority);
                        if (cookie is not null)
                        {
                            request.Headers.Cookie = cookie;
                        }
                    };
                    return await client.ConnectAsync(context.Uri, cancellationToken);
                };
            })
            .Build();

    /// <summary>Completes when <paramref name="connection"/> closes (the server ended it).</summary>
    public static Task ClosedAsync(this HubConnection connection)
    {
        var closed = new TaskCompletionSource();
        connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        return closed.Task;
    }

    /// <summary>A console's connection to /hubs/agent through the test server, as the user of a new personal access token.</summary>
    public static async Task<HubConnection> AgentHubAsync(this ProDeskApp app, string email, Action<HubConnection>? handlers = null)
    {
        var connection = app.AgentHub((await app.PatAsync(email)).Secret);
        handlers?.Invoke(connection);
        await connection.StartAsync();

        // StartAsync returns at the handshake; the hub registers the agent's presence just after it. Routing
        // tests need the agent online, so wait for that (bounded) rather than race it.
        var presence = app.Services.GetRequiredService<ProDesk.Web.Realtime.IAgentPresence>();
        var tenants = (await app.Services.GetRequiredService<ProDesk.Web.Tenancy.ITenantStore>().ListAsync()).Select(t => t.Id).ToList();
        var userId = (await app.UserAsync(email)).Id;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(await presence.OfAsync(tenants)).Any(a => a.Id == userId) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        return connection;
    }

    public static string DemoSecret(string slug) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.SeedDirectory, slug, "clients.json"))).RootElement.GetProperty("clientSecret").GetString()!;

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex("data-testid=\"login-message\">([^<]*)<")]
    private static partial Regex LoginMessageElement();
}
