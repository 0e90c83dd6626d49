using Hangfire.Server;

namespace ProDesk.Web.Sla;

public static class SlaExtensions
{
    /// <summary>The SLA engine (clocks driven by item changes) and the sweeper that fires its timers inside the Hangfire server.</summary>
    public static void AddSla(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<SlaEngine>();
        builder.Services.AddSingleton<SlaSweeper>();
        // Hangfire's server runs every IBackgroundProcess registered in the container; only where jobs run
        // (Sla:Sweeper=false leaves timers to whoever calls SlaSweeper, as the tests do).
        if (builder.Configuration.GetValue("ProDesk:RunJobs", true) && builder.Configuration.GetValue("Sla:Sweeper", true))
        {
            builder.Services.AddSingleton<IBackgroundProcess, SlaSweeperProcess>();
        }
    }
}
