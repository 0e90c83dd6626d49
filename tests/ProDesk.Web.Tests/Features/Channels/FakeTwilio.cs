using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ProDesk.Web.Tests.Features.Channels;

/// <summary>
/// A stand-in for Twilio's Messages API on 127.0.0.1 (real Kestrel, real HTTP): it checks basic auth,
/// answers 201 with a message resource as Twilio does, 400 with Twilio's error 21211 for
/// <see cref="InvalidNumber"/> (the number Twilio's own test credentials refuse), and 500 for
/// <see cref="BrokenNumber"/>; it serves messages' media (<see cref="Photo"/>) behind basic auth. Every request is kept,
/// so a test sees exactly what went over the wire.
/// </summary>
public sealed class FakeTwilio : IAsyncDisposable
{
    public const string AccountSid = "ACfa4e0000000000000000000000000001";
    public const string AuthToken = "fake-twilio-auth-token";
    public const string InvalidNumber = "+15005550001";
    public const string BrokenNumber = "+15005550500";

    /// <summary>A media id Twilio no longer holds (404).</summary>
    public const string MissingMedia = "ME404";

    /// <summary>What every other media URL serves, as image/jpeg.</summary>
    public static readonly byte[] Photo = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, .. "JFIF"u8, 0x00, 0xFF, 0xD9];

    private readonly WebApplication _app;

    private FakeTwilio(WebApplication app) => _app = app;

    public sealed record Received(string Path, string? Authorization, IReadOnlyDictionary<string, string> Form);

    public ConcurrentQueue<Received> Requests { get; } = new();

    public sealed record MediaFetched(string Media, string? Authorization);

    /// <summary>Every media download asked of the stand-in, in order.</summary>
    public ConcurrentQueue<MediaFetched> MediaRequests { get; } = new();

    public Uri BaseUrl { get; private set; } = null!;

    public static async Task<FakeTwilio> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeTwilio(app);
        app.MapPost("/2010-04-01/Accounts/{account}/Messages.json", (Delegate)fake.MessagesAsync);
        app.MapGet("/2010-04-01/Accounts/{account}/Messages/{message}/Media/{media}", (Delegate)fake.Media);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        fake.BaseUrl = new Uri(address);
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<IResult> MessagesAsync(string account, HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        var fields = form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
        Requests.Enqueue(new Received(request.Path, request.Headers.Authorization, fields));
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AccountSid}:{AuthToken}"));
        if (account != AccountSid || request.Headers.Authorization != expected)
        {
            return Error(401, 20003, "Authenticate");
        }

        var to = fields.GetValueOrDefault("To", "");
        if (to.EndsWith(InvalidNumber, StringComparison.Ordinal))
        {
            return Error(400, 21211, $"The 'To' number {to} is not a valid phone number.");
        }

        if (to.EndsWith(BrokenNumber, StringComparison.Ordinal))
        {
            return Error(500, 20500, "An internal server error has occurred");
        }

        var sid = "SM" + Guid.NewGuid().ToString("N");
        return Results.Json(new Dictionary<string, object?>
        {
            ["account_sid"] = account,
            ["api_version"] = "2010-04-01",
            ["body"] = fields.GetValueOrDefault("Body"),
            ["date_created"] = DateTimeOffset.UtcNow.ToString("r", System.Globalization.CultureInfo.InvariantCulture),
            ["direction"] = "outbound-api",
            ["error_code"] = null,
            ["error_message"] = null,
            ["from"] = fields.GetValueOrDefault("From"),
            ["num_media"] = "0",
            ["num_segments"] = "1",
            ["price"] = null,
            ["sid"] = sid,
            ["status"] = "queued",
            ["to"] = to,
            ["uri"] = $"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }, statusCode: 201);
    }

    /// <summary>A message's media, behind the account's basic auth as Twilio's are (HTTP Basic Auth enforced for media).</summary>
    private IResult Media(string account, string message, string media, HttpRequest request)
    {
        MediaRequests.Enqueue(new MediaFetched(media, request.Headers.Authorization));
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AccountSid}:{AuthToken}"));
        if (request.Headers.Authorization != expected)
        {
            return Error(401, 20003, "Authenticate");
        }

        return media == MissingMedia ? Error(404, 20404, "The requested resource was not found") : Results.Bytes(Photo, "image/jpeg");
    }

    private static IResult Error(int status, int code, string message) =>
        Results.Json(new { code, message, more_info = $"https://www.twilio.com/docs/errors/{code}", status }, statusCode: status);
}
