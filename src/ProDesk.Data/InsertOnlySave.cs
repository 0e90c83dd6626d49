using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using ProDesk.Data.Tenancy;

namespace ProDesk.Data;

/// <summary>
/// Saves a unit of work that only adds rows, on PostgreSQL, as INSERTs whose text is made once per table and row
/// count, instead of through EF Core's update pipeline: that pipeline builds every command and its SQL anew on each
/// save, and for ingestion (a contact, an item, its message, clocks, a change, an event: every message) it was a
/// fifth of the app's CPU. Same rows, same order (principals first), same checks: the tenant guard stamps and checks
/// every row as on any save, the row-level-security scope is made current as for any command, generated keys are read
/// back, and a failure is the same <see cref="DbUpdateException"/>. Anything else (an update, a delete, a table
/// shape this does not write) goes through EF Core as before: <see cref="TrySaveAsync"/> then answers false.
/// <para>
/// Saves outside a transaction are also written together (group commit, decision 69): while one save's batch is
/// on its way, the saves that arrive queue up, and the next writer sends all of them as one batch, one implicit
/// transaction, with a table's rows in one multi-row INSERT. Under load that is one round trip, one commit and one
/// statement per table for many messages, where each message cost each; alone, a save is written at once as before.
/// If the joint batch fails (one save's unique key taken), each save is written again on its own, so one failure is
/// one save's, as without grouping.
/// </para>
/// </summary>
public static class InsertOnlySave
{
    private const string PostgresProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";

    // By the provider's type: its Name reads the assembly's name, which is costly on every save.
    private static readonly ConcurrentDictionary<Type, bool> PostgresProviders = new();

    private static readonly ConcurrentDictionary<IEntityType, TableWriter?> Writers = new();

    // Per database: two hosts in one process (tests) each write to their own.
    private static readonly ConcurrentDictionary<string, WriteGroup> Groups = new(StringComparer.Ordinal);

    /// <summary>
    /// Writes the context's added rows and accepts them, as SaveChanges would; false, having written nothing, when the
    /// changes are not all inserts of plain tables or the provider is not PostgreSQL.
    /// </summary>
    public static async Task<bool> TrySaveAsync(ProDeskDbContext db, CancellationToken cancellationToken)
    {
        if (!IsPostgres(db))
        {
            return false;
        }

        // In SaveChanges' order: its interceptor stamps new rows with the tenant and refuses rows of another, then the
        // changes are detected (a stamped key or reference is fixed up everywhere). The check detects them first, so
        // one pass more only when it stamped a row: each pass walks every tracked row, and SaveChanges' three were a
        // twentieth of the app's CPU per ingested mail.
        if (TenantSaveGuard.Check(db))
        {
            db.ChangeTracker.DetectChanges();
        }

        var rows = new List<(EntityEntry Entry, TableWriter Writer)>();
        var autoDetect = db.ChangeTracker.AutoDetectChangesEnabled;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        try
        {
            foreach (var entry in db.ChangeTracker.Entries())
            {
                switch (entry.State)
                {
                    case EntityState.Unchanged:
                    case EntityState.Detached:
                        continue;
                    case EntityState.Added when Writers.GetOrAdd(entry.Metadata, TableWriter.For) is { } writer:
                        rows.Add((entry, writer));
                        continue;
                    default:
                        return false;
                }
            }
        }
        finally
        {
            db.ChangeTracker.AutoDetectChangesEnabled = autoDetect;
        }

        if (rows.Count == 0 || rows.Any(row => row.Writer.ReferencesAnotherAddedRow(row.Entry, rows)))
        {
            return false;
        }

        // Principals before their dependents, as EF Core orders them; a stable sort keeps each table's rows in the order added.
        var ordered = rows.OrderBy(row => row.Writer.Depth).ToList();
        var set = new RowSet([.. ordered.Select(row => row.Writer.Read(row.Entry))], db.TenantScopeIds);
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        var rowLevelSecurity = db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.Interceptors?.OfType<RowLevelSecurityInterceptor>().FirstOrDefault();
        Written written;
        if (transaction is null && rowLevelSecurity is not null && !db.ReadsOnlyTablesWithoutRowLevelSecurity)
        {
            // Open before queueing: a save whose turn comes writes on its own connection, and one that would only then take
            // it from a pool held by the saves waiting for it would wait for ever.
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                written = await Groups.GetOrAdd(db.Database.GetConnectionString() ?? "", _ => new WriteGroup()).WriteAsync(set, db.Database.GetDbConnection(), rowLevelSecurity);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
        else
        {
            written = await WriteAloneAsync(db, set, transaction, rowLevelSecurity, cancellationToken);
        }

        if (written.Failure is { } failure)
        {
            if (written.Refused)
            {
                throw new DbUpdateException("An error occurred while saving the entity changes. See the inner exception for details.", failure,
                    [.. ordered.Select(row => row.Entry)]);
            }

            ExceptionDispatchInfo.Throw(failure);
        }

        for (var i = 0; i < ordered.Count; i++)
        {
            if (set.Rows[i].Generated is not { } generated)
            {
                continue;
            }

            var entry = ordered[i].Entry;
            var values = written.Generated[i] ?? throw new DbUpdateException($"The insert of a {entry.Metadata.ClrType.Name} returned no generated values.", [entry]);
            for (var j = 0; j < generated.Count; j++)
            {
                var property = generated[j];
                var value = values[j];
                var converter = property.GetTypeMapping().Converter;
                var column = entry.Property(property.Name);
                column.CurrentValue = converter is null || value is null ? value : converter.ConvertFromProvider(value);
                column.IsTemporary = false;
            }
        }

        db.ChangeTracker.AcceptAllChanges();
        return true;
    }

    private static bool IsPostgres(ProDeskDbContext db)
    {
        var provider = db.GetService<IDatabaseProvider>();
        return PostgresProviders.GetOrAdd(provider.GetType(), static (_, provider) => provider.Name == PostgresProvider, provider);
    }

    /// <summary>A save inside the context's transaction, or on a database without row-level security: written alone, as it comes.</summary>
    private static async Task<Written> WriteAloneAsync(ProDeskDbContext db, RowSet set, DbTransaction? transaction, RowLevelSecurityInterceptor? rowLevelSecurity, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (rowLevelSecurity is not null)
            {
                await rowLevelSecurity.EnsureCurrentAsync(db, connection, transaction, cancellationToken);
            }

            try
            {
                return (await SendAsync(connection, transaction, [set], scope: null, cancellationToken))[0];
            }
            catch (DbException e)
            {
                return new Written([], e, Refused: true);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>One save's rows as read from its context: what any connection needs to write them.</summary>
    /// <param name="Scope">The tenants the context may write for; the batch's scope is the union of its saves'.</param>
    private sealed record RowSet(Row[] Rows, IReadOnlyList<Guid> Scope);

    /// <summary>A row: its table, which generated columns it leaves to the database (and so reads back), and its other columns' values.</summary>
    private sealed record Row(TableWriter Writer, ulong Omitted, object?[] Values, List<IProperty>? Generated)
    {
        /// <summary>
        /// Whether rows like this one go several to an INSERT: not when the database generates more than one of its
        /// columns, or one that is not a counted key (<see cref="SendAsync"/> matches returned keys to rows by their order).
        /// </summary>
        public bool ManyAtOnce => Generated is null || (Generated is [{ ClrType: var type }] && (type == typeof(long) || type == typeof(int)));
    }

    /// <summary>
    /// The outcome of one save: each row's generated values (null for a row without any), or why it failed; refused when
    /// the database refused its rows (a <see cref="DbUpdateException"/> to the caller), otherwise thrown as it came.
    /// </summary>
    private sealed record Written(object?[]?[] Generated, Exception? Failure = null, bool Refused = false);

    /// <summary>
    /// The saves waiting for one database and who writes them. At most <see cref="MaxWriters"/> batches are on their
    /// way at once; a save arriving meanwhile waits, and when a writer is done, the first waiting save writes
    /// every save waiting then (up to <see cref="MaxSaves"/>) on its own connection. Nobody waits for a timer: a save
    /// that finds a writer free goes at once.
    /// </summary>
    private sealed class WriteGroup
    {
        // One batch per core keeps both busy; more only split the waiting saves into smaller batches.
        private const int MaxWriters = 2;

        private const int MaxSaves = 64;

        private readonly Lock gate = new();
        private readonly Queue<Waiting> waiting = new();
        private int writing;

        public async Task<Written> WriteAsync(RowSet set, DbConnection connection, RowLevelSecurityInterceptor rowLevelSecurity)
        {
            var mine = new Waiting(set);
            bool now;
            lock (gate)
            {
                now = writing < MaxWriters;
                if (now)
                {
                    writing++;
                }
                else
                {
                    waiting.Enqueue(mine);
                }
            }

            // A writer either wrote this save with its own (its outcome), or hands its turn on (null): write what waits.
            if (!now && await mine.Done.Task is { } writtenByAnother)
            {
                return writtenByAnother;
            }

            var batch = new List<Waiting> { mine };
            try
            {
                lock (gate)
                {
                    while (batch.Count < MaxSaves && waiting.TryDequeue(out var next))
                    {
                        batch.Add(next);
                    }
                }

                var outcomes = await WriteTogetherAsync(connection, rowLevelSecurity, [.. batch.Select(w => w.Set)]);
                for (var i = 1; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(outcomes[i]);
                }

                return outcomes[0];
            }
            catch (Exception e)
            {
                foreach (var other in batch.Skip(1))
                {
                    other.Done.TrySetResult(new Written([], e));
                }

                return new Written([], e);
            }
            finally
            {
                lock (gate)
                {
                    if (waiting.TryDequeue(out var next))
                    {
                        next.Done.TrySetResult(null);
                    }
                    else
                    {
                        writing--;
                    }
                }
            }
        }

        /// <summary>
        /// The saves' rows in one batch; if it fails and held more than one save, each save again in a batch of its own,
        /// so every save gets the outcome it would have had alone. Not cancelled by any one caller: it writes others' rows.
        /// </summary>
        private static async Task<Written[]> WriteTogetherAsync(DbConnection connection, RowLevelSecurityInterceptor rowLevelSecurity, RowSet[] sets)
        {
            try
            {
                return await WriteScopedAsync(connection, rowLevelSecurity, sets);
            }
            catch (DbException e) when (sets.Length == 1)
            {
                return [new Written([], e, Refused: true)];
            }
            catch (DbException)
            {
                // Which save's row was refused is not told apart here: each is tried alone below.
            }

            var alone = new Written[sets.Length];
            for (var i = 0; i < sets.Length; i++)
            {
                try
                {
                    alone[i] = (await WriteScopedAsync(connection, rowLevelSecurity, [sets[i]]))[0];
                }
                catch (DbException e)
                {
                    alone[i] = new Written([], e, Refused: true);
                }
            }

            return alone;
        }

        // The union of the saves' scopes: each row was checked against its own context's tenant before it came here.
        private static async Task<Written[]> WriteScopedAsync(DbConnection connection, RowLevelSecurityInterceptor rowLevelSecurity, RowSet[] sets)
        {
            var wanted = sets.Length == 1 ? RowLevelSecurity.Format(sets[0].Scope) : RowLevelSecurity.Format(sets.SelectMany(s => s.Scope).Distinct().Order());
            var scope = rowLevelSecurity.ScopeStatementFor(connection, wanted) is { } statement ? (statement, wanted) : default((string, string)?);
            var written = await SendAsync(connection, null, sets, scope, CancellationToken.None);
            if (scope is not null)
            {
                rowLevelSecurity.BatchSucceeded(connection, wanted);
            }

            return written;
        }

        private sealed class Waiting(RowSet set)
        {
            public RowSet Set { get; } = set;

            public TaskCompletionSource<Written?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Rows of one table with the same generated columns, at most this many to a statement: bounds the texts kept and the parameters sent.</summary>
    private const int MaxRowsPerStatement = 128;

    /// <summary>
    /// Sends the sets' rows as one batch, one implicit transaction on PostgreSQL (one Sync, no error barriers): a failing
    /// statement rolls back every one, the scope statement first among them. A table's rows go in multi-row INSERTs,
    /// principals' tables first. Throws the provider's exception when the batch fails.
    /// </summary>
    private static async Task<Written[]> SendAsync(DbConnection connection, DbTransaction? transaction, RowSet[] sets, (string Statement, string Value)? scope, CancellationToken cancellationToken)
    {
        await using var batch = connection.CreateBatch();
        batch.Transaction = transaction;
        await using var parameters = connection.CreateCommand();
        if (scope is { } setScope)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = setScope.Statement;
            var value = parameters.CreateParameter();
            value.Value = setScope.Value;
            command.Parameters.Add(value);
            batch.BatchCommands.Add(command);
        }

        // Each statement's rows, as (set, row) positions; a table's rows keep the sets' order, and within a set the order added.
        var statements = new List<(bool Returns, List<(int Set, int Row)> Rows)>();
        var byTable = sets.SelectMany((set, s) => set.Rows.Select((row, r) => (Set: s, Row: r, row.Writer, row.Omitted, Multi: row.ManyAtOnce)))
            .GroupBy(row => (row.Writer, row.Omitted))
            .OrderBy(table => table.Key.Writer.Depth);
        foreach (var table in byTable)
        {
            var returns = sets[table.First().Set].Rows[table.First().Row].Generated is not null;
            foreach (var chunk in table.Chunk(table.First().Multi ? MaxRowsPerStatement : 1))
            {
                var command = batch.CreateBatchCommand();
                command.CommandText = table.Key.Writer.Sql(table.Key.Omitted, chunk.Length);
                foreach (var (s, r, _, _, _) in chunk)
                {
                    table.Key.Writer.AddParameters(sets[s].Rows[r], command, parameters);
                }

                batch.BatchCommands.Add(command);
                statements.Add((returns, [.. chunk.Select(row => (row.Set, row.Row))]));
            }
        }

        var generated = sets.Select(set => new object?[]?[set.Rows.Length]).ToArray();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (scope is not null)
        {
            await reader.NextResultAsync(cancellationToken);
        }

        foreach (var (_, rows) in statements.Where(statement => statement.Returns))
        {
            while (reader.FieldCount == 0 && await reader.NextResultAsync(cancellationToken))
            {
            }

            var values = new List<object?[]>();
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }

                values.Add(row);
            }

            if (values.Count == rows.Count)
            {
                // Several rows return one key the database counts up as it inserts them, in the order they are listed
                // (which is also what orders a clock's entries): ascending keys are the rows' in that order, whatever
                // order RETURNING reports them in.
                if (rows.Count > 1)
                {
                    values.Sort((a, b) => Convert.ToInt64(a[0], CultureInfo.InvariantCulture).CompareTo(Convert.ToInt64(b[0], CultureInfo.InvariantCulture)));
                }

                for (var i = 0; i < rows.Count; i++)
                {
                    generated[rows[i].Set][rows[i].Row] = values[i];
                }
            }

            await reader.NextResultAsync(cancellationToken);
        }

        while (await reader.NextResultAsync(cancellationToken))
        {
        }

        return [.. generated.Select(values => new Written(values))];
    }

    /// <summary>One table's INSERT: its text (made once) and how to fill its parameters from a row.</summary>
    private sealed class TableWriter
    {
        private readonly IProperty[] columns;
        private readonly string[] columnNames;
        private readonly IForeignKey[] selfReferences;
        private readonly string table;
        private readonly ConcurrentDictionary<(ulong Omitted, int Rows), string> sqlByShape = new();

        private TableWriter(IEntityType type, string table, IProperty[] columns, string[] columnNames, int depth)
        {
            this.table = table;
            this.columns = columns;
            this.columnNames = columnNames;
            Depth = depth;
            selfReferences = [.. type.GetForeignKeys().Where(fk => fk.PrincipalEntityType == type)];
        }

        /// <summary>How many tables this one depends on, at most, through foreign keys: 0 writes first.</summary>
        public int Depth { get; }

        /// <summary>
        /// A writer for a plain table (one type, no owned or complex parts, at most 64 columns), or null. Also null for a
        /// table referring to a key the database generates: a new row's reference would still hold the temporary value.
        /// </summary>
        public static TableWriter? For(IEntityType type)
        {
            if (type.GetTableName() is not { } tableName || type.BaseType is not null || type.GetDerivedTypes().Any() || type.IsOwned()
                || type.GetComplexProperties().Any() || type.GetNavigations().Any(n => n.TargetEntityType.IsOwned())
                || type.GetTableMappings().Count() != 1 || DepthOf(type, []) is not { } depth
                || type.GetForeignKeys().Any(fk => fk.PrincipalKey.Properties.Any(p => p.ValueGenerated != ValueGenerated.Never && p.ClrType != typeof(Guid))))
            {
                return null;
            }

            var store = StoreObjectIdentifier.Table(tableName, type.GetSchema());
            var columns = type.GetProperties().Where(p => p.GetColumnName(store) is not null).ToArray();
            if (columns.Length is 0 or > 64 || columns.Any(p => p.GetComputedColumnSql() is not null))
            {
                return null;
            }

            static string Quoted(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            var table = type.GetSchema() is { } schema ? $"{Quoted(schema)}.{Quoted(tableName)}" : Quoted(tableName);
            return new TableWriter(type, table, columns, [.. columns.Select(c => Quoted(c.GetColumnName(store)!))], depth);
        }

        private static int? DepthOf(IEntityType type, HashSet<IEntityType> visiting)
        {
            if (!visiting.Add(type))
            {
                return null;
            }

            var depth = 0;
            foreach (var principal in type.GetForeignKeys().Select(fk => fk.PrincipalEntityType).Where(p => p != type).Distinct())
            {
                if (DepthOf(principal, visiting) is not { } principalDepth)
                {
                    return null;
                }

                depth = Math.Max(depth, principalDepth + 1);
            }

            visiting.Remove(type);
            return depth;
        }

        /// <summary>A row pointing at another new row of its own table: their order would matter, so EF Core writes it.</summary>
        public bool ReferencesAnotherAddedRow(EntityEntry entry, List<(EntityEntry Entry, TableWriter Writer)> rows)
        {
            foreach (var fk in selfReferences)
            {
                var values = fk.Properties.Select(p => entry.CurrentValues[p]).ToArray();
                if (values.All(v => v is not null) && rows.Any(row => row.Writer == this && row.Entry != entry
                        && fk.PrincipalKey.Properties.Select(p => row.Entry.CurrentValues[p]).SequenceEqual(values)))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>
        /// The row's values as its INSERT sends them, read from its entry now (the entry's context stays with its caller),
        /// and the columns the database generates for it (a key not set yet), which the INSERT returns.
        /// </summary>
        public Row Read(EntityEntry entry)
        {
            var current = entry.CurrentValues;
            var omitted = 0UL;
            List<IProperty>? generated = null;
            var values = new List<object?>(columns.Length);
            for (var i = 0; i < columns.Length; i++)
            {
                var property = columns[i];
                var value = current[property];
                if (property.ValueGenerated != ValueGenerated.Never && IsUnset(entry, property, value))
                {
                    omitted |= 1UL << i;
                    (generated ??= []).Add(property);
                    continue;
                }

                values.Add(value);
            }

            return new Row(this, omitted, [.. values], generated);
        }

        /// <summary>Adds the row's values to <paramref name="command"/>, after those of the rows before it in the same INSERT.</summary>
        public void AddParameters(Row row, DbBatchCommand command, DbCommand parameterFactory)
        {
            var n = 0;
            for (var i = 0; i < columns.Length; i++)
            {
                if ((row.Omitted & (1UL << i)) != 0)
                {
                    continue;
                }

                var property = columns[i];
                command.Parameters.Add(property.GetRelationalTypeMapping().CreateParameter(parameterFactory, "", row.Values[n++], property.IsNullable));
            }
        }

        // As EF Core decides whether to send a generated column: not while it holds a temporary or the unset value.
        private static bool IsUnset(EntityEntry entry, IProperty property, object? value) =>
            Equals(value, property.Sentinel) || entry.Property(property.Name).IsTemporary;

        /// <summary>The INSERT of <paramref name="rows"/> rows leaving <paramref name="omitted"/> columns to the database; made once per shape.</summary>
        public string Sql(ulong omitted, int rows) => sqlByShape.GetOrAdd((omitted, rows), shape => Text(shape.Omitted, shape.Rows));

        private string Text(ulong omitted, int rows)
        {
            var sql = new StringBuilder("INSERT INTO ").Append(table).Append(" (");
            var returning = new StringBuilder();
            var sent = 0;
            for (var i = 0; i < columns.Length; i++)
            {
                var name = columnNames[i];
                if ((omitted & (1UL << i)) != 0)
                {
                    returning.Append(returning.Length == 0 ? " RETURNING " : ", ").Append(name);
                    continue;
                }

                sql.Append(sent++ == 0 ? "" : ", ").Append(name);
            }

            sql.Append(") VALUES ");
            var n = 0;
            for (var row = 0; row < rows; row++)
            {
                sql.Append(row == 0 ? "(" : ", (");
                for (var column = 0; column < sent; column++)
                {
                    sql.Append(column == 0 ? "$" : ", $").Append(++n);
                }

                sql.Append(')');
            }

            return sql.Append(returning).ToString();
        }
    }
}
