using System.Collections.Concurrent;
using System.Data.Common;
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
/// Saves a unit of work that only adds rows, on PostgreSQL, as one batch of INSERTs whose text is made once per
/// table, instead of through EF Core's update pipeline: that pipeline builds every command and its SQL anew on each
/// save, and for ingestion (a contact, an item, its message, clocks, a change, an event: every message) it was a
/// fifth of the app's CPU. Same rows, same order (principals first), same checks: the tenant guard stamps and checks
/// every row as on any save, the row-level-security scope is made current as for any command, generated keys are read
/// back, and a failure is the same <see cref="DbUpdateException"/>. Anything else (an update, a delete, a table
/// shape this does not write) goes through EF Core as before: <see cref="TrySaveAsync"/> then answers false.
/// </summary>
public static class InsertOnlySave
{
    private const string PostgresProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";

    private static readonly ConcurrentDictionary<IEntityType, TableWriter?> Writers = new();

    /// <summary>
    /// Writes the context's added rows and accepts them, as SaveChanges would; false, having written nothing, when the
    /// changes are not all inserts of plain tables or the provider is not PostgreSQL.
    /// </summary>
    public static async Task<bool> TrySaveAsync(ProDeskDbContext db, CancellationToken cancellationToken)
    {
        if (db.Database.ProviderName != PostgresProvider)
        {
            return false;
        }

        // In SaveChanges' order: its interceptor stamps new rows with the tenant and refuses rows of another, then the
        // changes are detected (a stamped key or reference is fixed up everywhere).
        TenantSaveGuard.Check(db);
        db.ChangeTracker.DetectChanges();
        var rows = new List<(EntityEntry Entry, TableWriter Writer)>();
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

        if (rows.Count == 0 || rows.Any(row => row.Writer.ReferencesAnotherAddedRow(row.Entry, rows)))
        {
            return false;
        }

        // Principals before their dependents, as EF Core orders them; a stable sort keeps each table's rows in the order added.
        var ordered = rows.OrderBy(row => row.Writer.Depth).ToList();
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            if (db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.Interceptors?.OfType<RowLevelSecurityInterceptor>().FirstOrDefault() is { } rowLevelSecurity)
            {
                await rowLevelSecurity.EnsureCurrentAsync(db, connection, transaction, cancellationToken);
            }

            await using var batch = connection.CreateBatch();
            batch.Transaction = transaction;
            await using var parameters = connection.CreateCommand();
            var reading = new List<(EntityEntry Entry, List<IProperty> Generated)>();
            foreach (var (entry, writer) in ordered)
            {
                var command = batch.CreateBatchCommand();
                var generated = writer.Fill(entry, command, parameters);
                batch.BatchCommands.Add(command);
                if (generated is not null)
                {
                    reading.Add((entry, generated));
                }
            }

            try
            {
                await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
                foreach (var (entry, generated) in reading)
                {
                    while (reader.FieldCount == 0 && await reader.NextResultAsync(cancellationToken))
                    {
                    }

                    if (!await reader.ReadAsync(cancellationToken))
                    {
                        throw new DbUpdateException($"The insert of a {entry.Metadata.ClrType.Name} returned no generated values.", [entry]);
                    }

                    for (var i = 0; i < generated.Count; i++)
                    {
                        var property = generated[i];
                        var value = reader.IsDBNull(i) ? null : reader.GetValue(i);
                        var converter = property.GetTypeMapping().Converter;
                        var column = entry.Property(property.Name);
                        column.CurrentValue = converter is null || value is null ? value : converter.ConvertFromProvider(value);
                        column.IsTemporary = false;
                    }

                    await reader.NextResultAsync(cancellationToken);
                }

                while (await reader.NextResultAsync(cancellationToken))
                {
                }
            }
            catch (DbException e)
            {
                throw new DbUpdateException("An error occurred while saving the entity changes. See the inner exception for details.", e,
                    [.. ordered.Select(row => row.Entry)]);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        db.ChangeTracker.AcceptAllChanges();
        return true;
    }

    /// <summary>One table's INSERT: its text (made once) and how to fill its parameters from a row.</summary>
    private sealed class TableWriter
    {
        private readonly IProperty[] columns;
        private readonly string[] columnNames;
        private readonly IForeignKey[] selfReferences;
        private readonly string table;
        private readonly ConcurrentDictionary<ulong, string> sqlByOmitted = new();

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
        /// Fills <paramref name="command"/> with the row's INSERT; returns the columns the database generates for it
        /// (a key not set yet), which the command returns, or null when there are none.
        /// </summary>
        public List<IProperty>? Fill(EntityEntry entry, DbBatchCommand command, DbCommand parameterFactory)
        {
            var values = entry.CurrentValues;
            var omitted = 0UL;
            List<IProperty>? generated = null;
            for (var i = 0; i < columns.Length; i++)
            {
                var property = columns[i];
                if (property.ValueGenerated != ValueGenerated.Never && IsUnset(entry, property, values[property]))
                {
                    omitted |= 1UL << i;
                    (generated ??= []).Add(property);
                    continue;
                }

                var parameter = property.GetRelationalTypeMapping().CreateParameter(parameterFactory, "", values[property], property.IsNullable);
                command.Parameters.Add(parameter);
            }

            command.CommandText = sqlByOmitted.GetOrAdd(omitted, Sql);
            return generated;
        }

        // As EF Core decides whether to send a generated column: not while it holds a temporary or the unset value.
        private static bool IsUnset(EntityEntry entry, IProperty property, object? value) =>
            Equals(value, property.Sentinel) || entry.Property(property.Name).IsTemporary;

        private string Sql(ulong omitted)
        {
            var sql = new StringBuilder("INSERT INTO ").Append(table).Append(" (");
            var values = new StringBuilder();
            var returning = new StringBuilder();
            var n = 0;
            for (var i = 0; i < columns.Length; i++)
            {
                var name = columnNames[i];
                if ((omitted & (1UL << i)) != 0)
                {
                    returning.Append(returning.Length == 0 ? " RETURNING " : ", ").Append(name);
                    continue;
                }

                sql.Append(n == 0 ? "" : ", ").Append(name);
                values.Append(n == 0 ? "$" : ", $").Append(++n);
            }

            return sql.Append(") VALUES (").Append(values).Append(')').Append(returning).ToString();
        }
    }
}
