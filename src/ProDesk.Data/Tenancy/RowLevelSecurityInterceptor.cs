using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ProDesk.Data.Tenancy;

/// <summary>
/// PostgreSQL only: keeps the session setting <c>prodesk.tenant_ids</c>, which the row-level-security
/// policies read, equal to the context's current tenant scope. It is set when EF opens a connection
/// and again before any command whose scope differs from the one last set on that connection (a
/// scope can change while a transaction holds the connection open). A rollback can undo a
/// set_config, so after one the next command sets it again.
/// </summary>
public sealed class RowLevelSecurityInterceptor : IDbConnectionInterceptor, IDbCommandInterceptor, IDbTransactionInterceptor
{
    private static readonly ConditionalWeakTable<DbConnection, string> Applied = [];

    // What was applied belongs to one physical session: forgotten when EF opens or closes the connection,
    // so a failed set_config at open (say, a cancelled request) is retried before the next command
    // instead of trusting an earlier session's entry; the pool does not reset sessions (decision 33).
    public void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        Forget(connection);
        Apply(connection, null, Wanted(eventData.Context));
    }

    public Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(connection);
        return ApplyAsync(connection, null, Wanted(eventData.Context), cancellationToken);
    }

    public void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => Forget(connection);

    public Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        Forget(connection);
        return Task.CompletedTask;
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

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(transaction.Connection);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(transaction.Connection);
        return Task.CompletedTask;
    }

    public void RolledBackToSavepoint(DbTransaction transaction, TransactionEventData eventData) => Forget(transaction.Connection);

    public Task RolledBackToSavepointAsync(DbTransaction transaction, TransactionEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(transaction.Connection);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Forget(transaction.Connection);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(transaction.Connection);
        return Task.CompletedTask;
    }

    private static string Wanted(Microsoft.EntityFrameworkCore.DbContext? context) =>
        RowLevelSecurity.Format(context is ProDeskDbContext db ? db.TenantScopeIds : []);

    private static void EnsureCurrent(DbCommand command, CommandEventData eventData)
    {
        var wanted = Wanted(eventData.Context);
        if (command.Connection is { } connection && !IsApplied(connection, wanted))
        {
            Apply(connection, command.Transaction, wanted);
        }
    }

    private static async Task EnsureCurrentAsync(DbCommand command, CommandEventData eventData, CancellationToken cancellationToken)
    {
        var wanted = Wanted(eventData.Context);
        if (command.Connection is { } connection && !IsApplied(connection, wanted))
        {
            await ApplyAsync(connection, command.Transaction, wanted, cancellationToken);
        }
    }

    private static bool IsApplied(DbConnection connection, string wanted) =>
        Applied.TryGetValue(connection, out var applied) && applied == wanted;

    private static void Forget(DbConnection? connection)
    {
        if (connection is not null)
        {
            Applied.Remove(connection);
        }
    }

    private static void Apply(DbConnection connection, DbTransaction? transaction, string wanted)
    {
        using var command = CreateSetCommand(connection, transaction, wanted);
        command.ExecuteNonQuery();
        Applied.AddOrUpdate(connection, wanted);
    }

    private static async Task ApplyAsync(DbConnection connection, DbTransaction? transaction, string wanted, CancellationToken cancellationToken)
    {
        await using var command = CreateSetCommand(connection, transaction, wanted);
        await command.ExecuteNonQueryAsync(cancellationToken);
        Applied.AddOrUpdate(connection, wanted);
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
