using Hangfire.Server;

namespace ProDesk.Web.Sla;

public static class SlaExtensions
{
    /// <summary>The SLA engine (clocks driven by item changes), the sweeper that fires its timers inside the Hangfire server, and the admin's policy and calendar changes.</summary>
    public static void AddSla(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<SlaEngine>();
        builder.Services.AddScoped<ChangeSlaPolicy>();
        builder.Services.AddScoped<ImportHolidays>();
        builder.Services.AddSingleton<SlaSweeper>();
        // Hangfire's server runs every IBackgroundProcess registered in the container; only where jobs run
        // (Sla:Sweeper=false leaves timers to whoever calls SlaSweeper, as the tests do).
        if (builder.Configuration.GetValue("ProDesk:RunJobs", true) && builder.Configuration.GetValue("Sla:Sweeper", true))
        {
            builder.Services.AddSingleton<IBackgroundProcess, SlaSweeperProcess>();
        }
    }
}
