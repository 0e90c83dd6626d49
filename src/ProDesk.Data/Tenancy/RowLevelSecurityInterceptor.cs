using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ProDesk.Data.Tenancy;

/// <summary>
/// PostgreSQL only: keeps the session setting <c>prodesk.tenant_ids</c>, which the row-level-security
/// policies read, equal to the context's current tenant scope before any command of the context runs.
/// It remembers what it set per physical session (the pool does not reset sessions, decision 33), so a
/// connection whose session already carries the scope costs no extra round trip (decision 43). A rollback
/// can undo a set_config, so after one the next command sets it again. A context inside
/// <see cref="ProDeskDbContext.OnTablesWithoutRowLevelSecurity"/> sets nothing.
/// </summary>
/// <param name="sessionOf">
/// An object that lives exactly as long as the physical session behind an open connection, and is
/// never shared by two sessions (the provider's per-session object: see <c>PostgresProvider.SessionOf</c>).
/// </param>
public sealed class RowLevelSecurityInterceptor(Func<DbConnection, object> sessionOf)
    : IDbConnectionInterceptor, IDbCommandInterceptor, IDbTransactionInterceptor
{
    private readonly ConditionalWeakTable<object, string> applied = [];

    public void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (Wanted(eventData.Context) is { } wanted && !IsApplied(connection, wanted))
        {
            Apply(connection, null, wanted);
        }
    }

    public async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (Wanted(eventData.Context) is { } wanted && !IsApplied(connection, wanted))
        {
            await ApplyAsync(connection, null, wanted, cancellationToken);
        }
    }

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        EnsureCurrent(command, eventData);
        return result;
    }

    public async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await EnsureCurrentAsync(command, eventData, cancellationToken);
        return result;
    }

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        EnsureCurrent(command, eventData);
        return result;
    }

    public async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await EnsureCurrentAsync(command, eventData, cancellationToken);
        return result;
    }

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        EnsureCurrent(command, eventData);
        return result;
    }

    public async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        await EnsureCurrentAsync(command, eventData, cancellationToken);
        return result;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(transaction, eventData);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(transaction, eventData);
        return Task.CompletedTask;
    }

    public void RolledBackToSavepoint(DbTransaction transaction, TransactionEventData eventData) => Forget(transaction, eventData);

    public Task RolledBackToSavepointAsync(DbTransaction transaction, TransactionEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(transaction, eventData);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Forget(transaction, eventData);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(transaction, eventData);
        return Task.CompletedTask;
    }

    /// <summary>The setting the context's next command needs, or null when it needs none.</summary>
    private static string? Wanted(DbContext? context) => context switch
    {
        ProDeskDbContext { ReadsOnlyTablesWithoutRowLevelSecurity: true } => null,
        ProDeskDbContext db => RowLevelSecurity.Format(db.TenantScopeIds),
        _ => RowLevelSecurity.Format([]),
    };

    private void EnsureCurrent(DbCommand command, CommandEventData eventData)
    {
        if (Wanted(eventData.Context) is { } wanted && command.Connection is { } connection && !IsApplied(connection, wanted))
        {
            Apply(connection, command.Transaction, wanted);
        }
    }

    private async Task EnsureCurrentAsync(DbCommand command, CommandEventData eventData, CancellationToken cancellationToken)
    {
        if (Wanted(eventData.Context) is { } wanted && command.Connection is { } connection && !IsApplied(connection, wanted))
        {
            await ApplyAsync(connection, command.Transaction, wanted, cancellationToken);
        }
    }

    private bool IsApplied(DbConnection connection, string wanted) =>
        applied.TryGetValue(sessionOf(connection), out var value) && value == wanted;

    // The transaction's connection is gone once it has ended; the context's is the same one.
    private void Forget(DbTransaction transaction, TransactionEventData eventData)
    {
        var connection = transaction.Connection ?? eventData.Context?.Database.GetDbConnection();
        if (connection is { State: System.Data.ConnectionState.Open })
        {
            applied.Remove(sessionOf(connection));
        }
    }

    private void Apply(DbConnection connection, DbTransaction? transaction, string wanted)
    {
        var session = sessionOf(connection);
        applied.Remove(session); // unknown until the statement has run
        using var command = CreateSetCommand(connection, transaction, wanted);
        command.ExecuteNonQuery();
        applied.AddOrUpdate(session, wanted);
    }

    private async Task ApplyAsync(DbConnection connection, DbTransaction? transaction, string wanted, CancellationToken cancellationToken)
    {
        var session = sessionOf(connection);
        applied.Remove(session); // unknown until the statement has run
        await using var command = CreateSetCommand(connection, transaction, wanted);
        await command.ExecuteNonQueryAsync(cancellationToken);
        applied.AddOrUpdate(session, wanted);
    }

    private static DbCommand CreateSetCommand(DbConnection connection, DbTransaction? transaction, string wanted)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT set_config('{RowLevelSecurity.SettingName}', @ids, false)";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "ids";
        parameter.Value = wanted;
        command.Parameters.Add(parameter);
        return command;
    }
}
