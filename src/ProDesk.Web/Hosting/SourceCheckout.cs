namespace ProDesk.Web.Hosting;

/// <summary>
/// What <c>dotnet run --project src/ProDesk.Web</c> starts as without a launch profile: a build inside a source
/// checkout (ProDesk.sln above it) with no environment named is Development, and a host told nowhere where to listen
/// listens on http://localhost:5080 (CONTRACT.md). A launch profile used to say both, but with one the SDK writes
/// "Using launch settings from ..." to standard output ahead of the program's own, and <c>-- token create</c> must
/// print only the token. A published build (no solution above it) stays Production unless told otherwise.
/// </summary>
public static class SourceCheckout
{
    public const string DefaultUrl = "http://localhost:5080";

    public static WebApplicationOptions Options(string[] args)
    {
        var named = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") is { Length: > 0 }
            || Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") is { Length: > 0 }
            || args.Any(a => a.StartsWith("--environment", StringComparison.OrdinalIgnoreCase) || a.StartsWith("environment=", StringComparison.OrdinalIgnoreCase));
        var fromSource = !named && ProDeskPaths.FindRepositoryRoot(AppContext.BaseDirectory) is not null;
        return new WebApplicationOptions { Args = args, EnvironmentName = fromSource ? Environments.Development : null };
    }

    /// <summary>Listens on <see cref="DefaultUrl"/> unless the configuration names URLs, ports or Kestrel endpoints.</summary>
    public static void UseDefaultUrl(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (configuration["urls"] is not { Length: > 0 } && configuration["http_ports"] is not { Length: > 0 }
            && configuration["https_ports"] is not { Length: > 0 } && !configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
    }
}
