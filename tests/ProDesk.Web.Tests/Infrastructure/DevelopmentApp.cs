using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ProDesk.Web.Tests.Infrastructure;

/// <summary>
/// The app as a newcomer runs it (Development, the embedded SQLite default, demo tenants seeded), in a data
/// folder of its own, without background jobs; <paramref name="settings"/> are applied on top.
/// </summary>
public sealed class DevelopmentApp(params (string Key, string Value)[] settings) : WebApplicationFactory<Program>
{
    private readonly string data = Directory.CreateTempSubdirectory("prodesk-dev-").FullName;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ProDesk:DataDirectory", data);
        builder.UseSetting("ProDesk:SeedDirectory", Repository.SeedDirectory);
        builder.UseSetting("ProDesk:RunJobs", "false");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(data, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment; the temp folder is cleaned by the OS.
        }
    }
}
