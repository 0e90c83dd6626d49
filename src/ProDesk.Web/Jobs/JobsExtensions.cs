using Hangfire;
using Hangfire.Dashboard;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using ProDesk.Data.Identity;
using ProDesk.Web.Data;
using ProDesk.Web.Tenancy;

namespace ProDesk.Web.Jobs;

public static class JobsExtensions
{
    /// <summary>Hangfire: in memory on the embedded default, in PostgreSQL (schema "hangfire") when the app runs there.</summary>
    public static void AddJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddHangfire((services, config) =>
        {
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();

            var settings = services.GetRequiredService<DatabaseSettings>();
            if (settings.Provider == DatabaseProvider.Postgres)
            {
                config.UsePostgreSqlStorage(
                    options => options.UseNpgsqlConnection(settings.ConnectionString),
                    new PostgreSqlStorageOptions
                    {
                        SchemaName = "hangfire",
                        PrepareSchemaIfNecessary = true,
                        // Jobs are picked up within a second; SLA timers have their own sweeper.
                        QueuePollInterval = TimeSpan.FromSeconds(1),
                    });
            }
            else
            {
                config.UseInMemoryStorage(new InMemoryStorageOptions());
            }
        });

        if (builder.Configuration.GetValue("ProDesk:RunJobs", true))
        {
            builder.Services.AddHangfireServer(options => options.WorkerCount = Math.Max(4, Environment.ProcessorCount * 2));
        }

        builder.Services.AddSingleton<IRecurringJobs, RecurringJobs>();
    }

    /// <summary>The dashboard at /hangfire (provider admins only; sign-in arrives with the identity feature) and the recurring schedules.</summary>
    public static void UseJobs(this WebApplication app)
    {
        // The dashboard answers 401/403 on its own; here, as everywhere, what a caller may not see is not found.
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments("/hangfire", StringComparison.OrdinalIgnoreCase) && !context.User.IsInRole(Roles.ProviderAdmin),
            branch => branch.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }));
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new ProviderAdminDashboardFilter()],
            DisplayStorageConnectionString = false,
        });
        app.Services.GetRequiredService<IRecurringJobs>().Register();
    }

    private sealed class ProviderAdminDashboardFilter : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.IsInRole(Roles.ProviderAdmin);
    }
}
