using Npgsql;

namespace ProDesk.Web.Tests.Infrastructure;

/// <summary>
/// The throwaway PostgreSQL cluster that tests/run.sh starts on loopback. Each app fixture gets a
/// fresh database owned by an ordinary role (the app refuses superusers, which skip row-level
/// security); the superuser connection is kept for resets and for checks from outside the app.
/// </summary>
public static class PostgresServer
{
    public const string AppRole = "prodesk_test_app";
    private const string AppPassword = "test-only-password";
    private static readonly SemaphoreSlim RoleLock = new(1, 1);

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable("PRODESK_TEST_PG") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException("PRODESK_TEST_PG is not set: run the tests with tests/run.sh, which starts a throwaway PostgreSQL on loopback.");

    public sealed record TestDatabase(string Name, string AppConnectionString, string AdminConnectionString);

    public static async Task<TestDatabase> CreateDatabaseAsync()
    {
        var name = $"prodesk_t_{Guid.NewGuid():N}"[..24];
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        await RoleLock.WaitAsync();
        try
        {
            await Execute(admin, $"""
                DO $$ BEGIN
                  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{AppRole}') THEN
                    CREATE ROLE {AppRole} LOGIN PASSWORD '{AppPassword}' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                  END IF;
                END $$;
                """);
        }
        finally
        {
            RoleLock.Release();
        }

        await Execute(admin, $"CREATE DATABASE {name} OWNER {AppRole}");
        var app = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Username = AppRole, Password = AppPassword, MaxPoolSize = 50 };
        var adminDb = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name };
        return new TestDatabase(name, app.ConnectionString, adminDb.ConnectionString);
    }

    public static async Task DropDatabaseAsync(string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        await Execute(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    public static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<T> Scalar<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
