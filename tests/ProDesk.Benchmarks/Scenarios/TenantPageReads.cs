using System.Net;
using System.Text;
using System.Text.Encodings.Web;

namespace ProDesk.Benchmarks.Scenarios;

/// <summary>
/// Scenario A: GET /t/{slug}, round-robin over the tenants, from concurrent keep-alive clients.
/// Each request resolves its tenant from the route (cached store) and renders the tenant's page;
/// an answer that is not 200 with that tenant's heading counts as an error.
/// </summary>
internal static class TenantPageReads
{
    public const string Title = "A. Tenant-resolved reads over HTTP";

    public static async Task<LoadResult> RunAsync(Uri baseAddress, IReadOnlyList<BenchTenant> tenants, BenchOptions options, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            MaxConnectionsPerServer = options.Concurrency,
        };
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };

        // Each page must name its own tenant: checked once here with a readable failure, then on every response.
        var pages = tenants
            .Select(t => new Page(new Uri($"t/{t.Slug}", UriKind.Relative), Encoding.UTF8.GetBytes($"<h1>{HtmlEncoder.Default.Encode(t.Name)} support</h1>")))
            .ToArray();
        foreach (var page in pages)
        {
            using var response = await http.GetAsync(page.Path, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (!page.IsAnswer(response, body))
            {
                throw new InvalidOperationException(
                    $"GET /{page.Path} answered {(int)response.StatusCode} without {Encoding.UTF8.GetString(page.Heading)}");
            }
        }

        var roundRobin = new RoundRobin(pages);
        Task<ILoadWorker> Create(int index, CancellationToken ct) => Task.FromResult<ILoadWorker>(new Worker(http, roundRobin));

        if (options.Warmup > TimeSpan.Zero)
        {
            await LoadLoop.RunAsync("warm-up", options.Concurrency, options.Warmup, Create, cancellationToken);
        }

        return await LoadLoop.RunAsync(Title, options.Concurrency, options.Duration, Create, cancellationToken);
    }

    private sealed record Page(Uri Path, byte[] Heading)
    {
        public bool IsAnswer(HttpResponseMessage response, byte[] body) =>
            response.StatusCode == HttpStatusCode.OK && body.AsSpan().IndexOf(Heading) >= 0;
    }

    private sealed class RoundRobin(Page[] pages)
    {
        private long next = -1;

        public Page Next() => pages[(int)(Interlocked.Increment(ref next) % pages.Length)];
    }

    private sealed class Worker(HttpClient http, RoundRobin pages) : ILoadWorker
    {
        public async ValueTask<bool> RunOnceAsync(CancellationToken cancellationToken)
        {
            // The latency includes the whole body, as a browser would wait for it.
            var page = pages.Next();
            using var response = await http.GetAsync(page.Path, HttpCompletionOption.ResponseContentRead, cancellationToken);
            return page.IsAnswer(response, await response.Content.ReadAsByteArrayAsync(cancellationToken));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
