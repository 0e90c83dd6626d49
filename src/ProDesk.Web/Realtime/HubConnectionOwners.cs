using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using ProDesk.Web.Channels;
using ProDesk.Web.Identity;

namespace ProDesk.Web.Realtime;

/// <summary>
/// A hub connection answers only whoever negotiated it. Long polling and server-sent events carry the connection's
/// token in the URL of every request (so in proxy logs and browser history), and SignalR served anyone signed in who
/// presented it: it compares a claim ProDesk's principals do not carry, so another agent could read this agent's
/// events and call the hub as them. The negotiate answer's token is remembered with its owner (the user's <c>sub</c>,
/// or a chat visitor's address), and a later request naming it for someone else is refused with 404, as if the
/// connection did not exist. WebSocket connections are one request and need nothing more.
/// </summary>
public static class HubConnectionOwners
{
    private static readonly TimeSpan Remembered = TimeSpan.FromHours(12);

    private sealed record Token(string Value);

    public static void UseHubConnectionOwners(this WebApplication app) => app.UseWhen(
        context => context.Request.Path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase),
        branch => branch.Use(async (context, next) =>
        {
            var cache = context.RequestServices.GetRequiredService<IMemoryCache>();
            if (context.Request.Path.Value?.EndsWith("/negotiate", StringComparison.OrdinalIgnoreCase) == true)
            {
                await RememberAsync(context, next, cache);
                return;
            }

            if (context.Request.Query["id"] is [{ Length: > 0 } id]
                && cache.TryGetValue(new Token(id), out string? owner) && !string.Equals(owner, OwnerOf(context), StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context);
        }));

    private static string OwnerOf(HttpContext context) =>
        context.User.FindFirst(ProDeskClaims.Subject)?.Value is { } subject ? $"user:{subject}" : $"address:{ClientAddress.Key(context.Connection.RemoteIpAddress)}";

    /// <summary>Lets the negotiate answer through, noting its connection token's owner on the way.</summary>
    private static async Task RememberAsync(HttpContext context, RequestDelegate next, IMemoryCache cache)
    {
        var body = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = body;
        }

        if (context.Response.StatusCode == StatusCodes.Status200OK && buffer.Length is > 0 and < 64 * 1024)
        {
            try
            {
                using var answer = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
                if (answer.RootElement.TryGetProperty("connectionToken", out var token) && token.GetString() is { Length: > 0 } value)
                {
                    cache.Set(new Token(value), OwnerOf(context), new MemoryCacheEntryOptions { SlidingExpiration = Remembered });
                }
            }
            catch (JsonException)
            {
                // Not a negotiate answer of ours: nothing to remember.
            }
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(body, context.RequestAborted);
    }
}
