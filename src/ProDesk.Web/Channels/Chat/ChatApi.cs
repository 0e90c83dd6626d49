using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using ProDesk.Web.Channels.Outbound;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Channels.Chat;

/// <summary>
/// The web chat channel: the widget script a client site embeds, a demo page that embeds it, and the
/// visitor hub. Client sites are other origins, so the hub answers CORS (any origin, no credentials:
/// the widget key and the visitor token travel in the query string and the calls, never in cookies).
/// </summary>
public static class ChatApi
{
    public const string CorsPolicy = "chat-widget";

    public const string NegotiateRateLimit = "chat-negotiate";

    /// <summary>The widget's source under wwwroot (also served there, as every static asset).</summary>
    public const string ScriptFile = "js/chat-widget.js";

    public static void AddChat(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ChatOptions>().Bind(builder.Configuration.GetSection("Chat"));
        services.AddSingleton<ChatWidgets>();
        services.AddSingleton<ChatLimits>();
        services.AddSingleton<ChatWidgetScript>();
        services.AddSingleton<IChatNotifier, SignalRChatNotifier>();
        services.AddSingleton<IOutboundSender, ChatSender>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ChatWidgetAuthenticationHandler>(ChatWidgetAuthenticationHandler.SchemeName, null);
        services.AddCors(options => options.AddPolicy(CorsPolicy, policy => policy.AllowAnyOrigin().AllowAnyHeader().WithMethods("GET", "POST", "DELETE")));
        services.Configure<RateLimiterOptions>(options => options.AddPolicy(NegotiateRateLimit, context =>
            // Only new connections count: a negotiation, or a connection opened without one (a WebSocket with
            // skipNegotiation), which names no connection id. Long polling's every poll names its id.
            (context.Request.Path.Value?.EndsWith("/negotiate", StringComparison.Ordinal) == true
                ? HttpMethods.IsPost(context.Request.Method)
                : !context.Request.Query.ContainsKey("id"))
                ? RateLimitPartition.GetFixedWindowLimiter(ClientAddress.Key(context.Connection.RemoteIpAddress), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = context.RequestServices.GetRequiredService<IOptions<ChatOptions>>().Value.NegotiationsPerMinutePerIp,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                })
                : RateLimitPartition.GetNoLimiter("")));
    }

    public static void MapChat(this IEndpointRouteBuilder app)
    {
        // Public and the same for every tenant, known or not: it tells nothing about which tenants exist.
        app.MapGet("/channels/chat/{tenant}/widget.js", Script)
            .WithMetadata(new NoTenantAttribute()).AllowAnonymous()
            .WithTags("Channels").WithName("ChatWidgetScript")
            .WithSummary("The chat widget: <script src=\".../channels/chat/{tenant}/widget.js\" data-key=\"WIDGETKEY\" async></script> on a client's page.");
        app.MapGet("/channels/chat/{tenant}/demo", Demo)
            .WithMetadata(new NoTenantAttribute()).AllowAnonymous().ExcludeFromDescription();
        app.MapHub<ChatHub>(ChatHub.Path)
            .RequireCors(CorsPolicy).RequireRateLimiting(NegotiateRateLimit).WithMetadata(new NoTenantAttribute());
    }

    private static FileContentHttpResult Script(HttpContext context, ChatWidgetScript script)
    {
        // A stable URL on client pages, so not fingerprinted: cached briefly, then revalidated by ETag.
        context.Response.Headers.CacheControl = "public, max-age=600";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        return TypedResults.Bytes(script.Bytes, "text/javascript; charset=utf-8", entityTag: script.ETag);
    }

    /// <summary>A stand-in for a client's web page with the widget on it, for demos: the key comes from the query string.</summary>
    private static ContentHttpResult Demo(string tenant, string? key)
    {
        var html = HtmlEncoder.Default;
        var body = string.IsNullOrEmpty(key)
            ? "<p>Add <code>?key=WIDGETKEY</code> (the tenant's widget key) to this address to see the chat widget.</p>"
            : $"<p>This page stands in for a client's web site. The chat bubble in the corner is ProDesk's widget.</p>\n"
              + $"<script src=\"/channels/chat/{html.Encode(UrlEncoder.Default.Encode(tenant))}/widget.js\" data-key=\"{html.Encode(key)}\" async></script>";
        return TypedResults.Content(
            $"<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + $"<title>Chat demo · {html.Encode(tenant)}</title></head>\n<body>\n<h1>{html.Encode(tenant)}</h1>\n{body}\n</body>\n</html>\n",
            "text/html; charset=utf-8");
    }
}

/// <summary>The widget script, read once from wwwroot, with its ETag.</summary>
public sealed class ChatWidgetScript
{
    private readonly Lazy<(byte[] Bytes, EntityTagHeaderValue ETag)> _file;

    public ChatWidgetScript(IWebHostEnvironment environment) =>
        _file = new(() =>
        {
            var file = environment.WebRootFileProvider.GetFileInfo(ChatApi.ScriptFile);
            using var stream = file.Exists ? file.CreateReadStream() : throw new FileNotFoundException("The chat widget script is missing from wwwroot.", ChatApi.ScriptFile);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            return (bytes, new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..32]}\""));
        });

    public byte[] Bytes => _file.Value.Bytes;

    public EntityTagHeaderValue ETag => _file.Value.ETag;
}
