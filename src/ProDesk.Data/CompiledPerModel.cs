using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace ProDesk.Data;

/// <summary>
/// An EF Core compiled query, compiled once per model: a compiled query refuses to run against another model than
/// the one it first ran with, and one process can hold two (the SQLite and the PostgreSQL model: tests, tools).
/// </summary>
/// <param name="compile">Makes the query (<c>EF.CompileAsyncQuery(...)</c>); called once per model.</param>
public sealed class CompiledPerModel<TQuery>(Func<TQuery> compile)
    where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> compiled = [];

    /// <summary>The query for <paramref name="db"/>'s model.</summary>
    public TQuery For(DbContext db) =>
        // The lookup first: GetValue's factory would be a new closure on every call of a statement that runs on every message.
        compiled.TryGetValue(db.Model, out var query) ? query : compiled.GetValue(db.Model, _ => compile());
}
