using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ProDesk.Data.Tenancy;

/// <summary>
/// PostgreSQL only: keeps the session setting <c>prodesk.tenant_ids</c>, which the row-level-security
/// policies read, equal to the context's current tenant scope before any command of the context runs.
/// It remembers what it set per physical session (the pool does not reset sessions, decision 33), so a
/// connection whose session already carries the scope costs no extra round trip (decision 43). A query outside
/// any transaction takes the set_config along as its command's first statement, in its own round trip, and leaves
/// the session unknown (decision 72). A set_config inside a transaction is trusted only within that transaction,
/// and leaves the session unknown. A context inside <see cref="ProDeskDbContext.OnTablesWithoutRowLevelSecurity"/>
/// sets nothing.
/// </summary>
/// <param name="sessionOf">
/// An object that lives exactly as long as the physical session behind an open connection, and is
/// never shared by two sessions (the provider's per-session object: see <c>PostgresProvider.SessionOf</c>);
/// or the connection itself where sessions do not outlive a close, which makes the interceptor forget at close.
/// </param>
public sealed class RowLevelSecurityInterceptor(Func<DbConnection, object> sessionOf)
    : IDbConnectionInterceptor, IDbCommandInterceptor, IDbTransactionInterceptor
{
    // Per physical session: the setting as it stands outside any transaction. Static, like the sessions: Npgsql's
    // pool is the process's, so two hosts in one process (tests make several) hand each other the same sessions,
    // and a memory per interceptor trusted a setting the other host had since changed.
    private static readonly ConditionalWeakTable<object, string> applied = [];

    // Per transaction, while it lasts: the setting as set inside it.
    private static readonly ConditionalWeakTable<DbTransaction, string> inTransaction = [];

    // The statement that sets the scope, its value the named parameter (AddScope; a name EF Core does not make). A query
    // that sets the scope itself begins with it (SetsScopeFirst), and its reader steps past that statement's result first.
    private const string ScopeParameter = "prodesk_tenant_scope";
    private const string SetScope = $"SELECT set_config('{RowLevelSecurity.SettingName}', @{ScopeParameter}, false)";
    private const string ScopeFirstStatement = SetScope + ";\n";

    // Nothing is set at open: every command of the context is intercepted below, and a query then takes the
    // statement along instead of paying a round trip of its own for it.
    public void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => ForgetIfNotSessionBound(connection);

    public Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ForgetIfNotSessionBound(connection);
        return Task.CompletedTask;
    }

    // A key that is the connection object itself stands for "whatever session it has now" (see sessionOf): forgotten at open and close.
    public InterceptionResult ConnectionClosing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        ForgetIfNotSessionBound(connection);
        return result;
    }

    public ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        ForgetIfNotSessionBound(connection);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        if (!SetsScopeFirst(command, eventData))
        {
            EnsureCurrent(command, eventData);
        }

        return result;
    }

    public async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (!SetsScopeFirst(command, eventData))
        {
            await EnsureCurrentAsync(command, eventData, cancellationToken);
        }

        return result;
    }

    public DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result)
    {
        if (command.CommandText.StartsWith(ScopeFirstStatement, StringComparison.Ordinal))
        {
            result.NextResult();
        }

        return result;
    }

    public async ValueTask<DbDataReader> ReaderExecutedAsync(
        DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        if (command.CommandText.StartsWith(ScopeFirstStatement, StringComparison.Ordinal))
        {
            await result.NextResultAsync(cancellationToken);
        }

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

    // A set_config inside a transaction is trusted only inside that transaction; the session's memory says
    // "unknown" from then on, even after a commit (PostgreSQL turns the COMMIT of a failed transaction into a
    // rollback without an error). Npgsql hands out the same transaction object again, so what was set in one
    // is dropped whenever a transaction starts, is joined, or ends.
    public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        inTransaction.Remove(result);
        return result;
    }

    public ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        inTransaction.Remove(result);
        return ValueTask.FromResult(result);
    }

    public DbTransaction TransactionUsed(DbConnection connection, TransactionEventData eventData, DbTransaction result)
    {
        inTransaction.Remove(result);
        return result;
    }

    public ValueTask<DbTransaction> TransactionUsedAsync(DbConnection connection, TransactionEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        inTransaction.Remove(result);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => inTransaction.Remove(transaction);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        inTransaction.Remove(transaction);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => inTransaction.Remove(transaction);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        inTransaction.Remove(transaction);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => inTransaction.Remove(transaction);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        inTransaction.Remove(transaction);
        return Task.CompletedTask;
    }

    public void RolledBackToSavepoint(DbTransaction transaction, TransactionEventData eventData) => inTransaction.Remove(transaction);

    public Task RolledBackToSavepointAsync(DbTransaction transaction, TransactionEventData eventData, CancellationToken cancellationToken = default)
    {
        inTransaction.Remove(transaction);
        return Task.CompletedTask;
    }

    /// <summary>The setting the context's next command needs, or null when it needs none.</summary>
    private static string? Wanted(DbContext? context) => context switch
    {
        ProDeskDbContext { ReadsOnlyTablesWithoutRowLevelSecurity: true } => null,
        ProDeskDbContext db => RowLevelSecurity.Format(db.TenantScopeIds),
        _ => RowLevelSecurity.Format([]),
    };

    /// <summary>For a command the context runs without EF Core (<see cref="InsertOnlySave"/>): makes the scope current as for any other.</summary>
    public async Task EnsureCurrentAsync(DbContext context, DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        if (Wanted(context) is { } wanted && !IsApplied(connection, transaction, wanted))
        {
            await ApplyAsync(connection, transaction, wanted, cancellationToken);
        }
    }

    /// <summary>
    /// For rows of several contexts written in one batch outside any transaction (<see cref="InsertOnlySave"/>): the
    /// text of a statement to run first in the batch, setting <paramref name="wanted"/> as the session's scope (one
    /// positional parameter, the value), or null when the session has it already. Until <see cref="BatchSucceeded"/>
    /// the session's setting counts as unknown: a failed batch rolls the statement back with the rest.
    /// </summary>
    public string? ScopeStatementFor(DbConnection connection, string wanted)
    {
        if (IsApplied(connection, null, wanted))
        {
            return null;
        }

        Forget(connection, null);
        return $"SELECT set_config('{RowLevelSecurity.SettingName}', $1, false)";
    }

    /// <summary>The batch that began with <see cref="ScopeStatementFor"/>'s statement committed: the session now has that scope.</summary>
    public void BatchSucceeded(DbConnection connection, string wanted) => Remember(sessionOf(connection), null, wanted);

    /// <summary>
    /// A query outside any transaction, on a session without the wanted scope: the scope's set_config goes first in the
    /// query's own command, one round trip for both (decision 72), and the session counts as unknown afterwards. Both
    /// statements run in one implicit transaction, so a query that fails, even while its rows stream, rolls the setting
    /// back with it; and nothing tells the interceptor when a reader has read to the end without an error. The next
    /// command on the session sets the scope again (a query the same way, at the cost of one short statement). A save
    /// is not sent this way: EF Core reads a save's results statement by statement.
    /// </summary>
    private bool SetsScopeFirst(DbCommand command, CommandEventData eventData)
    {
        if (eventData.CommandSource is not (CommandSource.LinqQuery or CommandSource.FromSqlQuery)
            || command.Transaction is not null || System.Transactions.Transaction.Current is not null
            || Wanted(eventData.Context) is not { } wanted || command.Connection is not { } connection || IsApplied(connection, null, wanted))
        {
            return false;
        }

        Forget(connection, null);
        AddScope(command, wanted);
        command.CommandText = ScopeFirstStatement + command.CommandText;
        return true;
    }

    private void EnsureCurrent(DbCommand command, CommandEventData eventData)
    {
        if (Wanted(eventData.Context) is { } wanted && command.Connection is { } connection && !IsApplied(connection, command.Transaction, wanted))
        {
            Apply(connection, command.Transaction, wanted);
        }
    }

    private async Task EnsureCurrentAsync(DbCommand command, CommandEventData eventData, CancellationToken cancellationToken)
    {
        if (Wanted(eventData.Context) is { } wanted && command.Connection is { } connection && !IsApplied(connection, command.Transaction, wanted))
        {
            await ApplyAsync(connection, command.Transaction, wanted, cancellationToken);
        }
    }

    private bool IsApplied(DbConnection connection, DbTransaction? transaction, string wanted) =>
        transaction is not null && inTransaction.TryGetValue(transaction, out var set)
            ? set == wanted
            : applied.TryGetValue(sessionOf(connection), out var value) && value == wanted;

    private void Apply(DbConnection connection, DbTransaction? transaction, string wanted)
    {
        var session = Forget(connection, transaction);
        using var command = CreateSetCommand(connection, transaction, wanted);
        command.ExecuteNonQuery();
        Remember(session, transaction, wanted);
    }

    private async Task ApplyAsync(DbConnection connection, DbTransaction? transaction, string wanted, CancellationToken cancellationToken)
    {
        var session = Forget(connection, transaction);
        await using var command = CreateSetCommand(connection, transaction, wanted);
        await command.ExecuteNonQueryAsync(cancellationToken);
        Remember(session, transaction, wanted);
    }

    // Unknown until the statement has run; for the session, for good if it runs inside a transaction.
    private object Forget(DbConnection connection, DbTransaction? transaction)
    {
        var session = sessionOf(connection);
        applied.Remove(session);
        if (transaction is not null)
        {
            inTransaction.Remove(transaction);
        }

        return session;
    }

    private void ForgetIfNotSessionBound(DbConnection connection)
    {
        if (connection.State == System.Data.ConnectionState.Open && ReferenceEquals(sessionOf(connection), connection))
        {
            applied.Remove(connection);
        }
    }

    private static void Remember(object session, DbTransaction? transaction, string wanted)
    {
        if (transaction is not null)
        {
            inTransaction.AddOrUpdate(transaction, wanted);
        }
        else if (System.Transactions.Transaction.Current is null)
        {
            // Outside any transaction the setting holds for the session; inside an ambient one it might be rolled back.
            applied.AddOrUpdate(session, wanted);
        }
    }

    private static DbCommand CreateSetCommand(DbConnection connection, DbTransaction? transaction, string wanted)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = SetScope;
        AddScope(command, wanted);
        return command;
    }

    private static void AddScope(DbCommand command, string wanted)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = ScopeParameter;
        parameter.Value = wanted;
        command.Parameters.Add(parameter);
    }
}
