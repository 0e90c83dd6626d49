using Microsoft.EntityFrameworkCore;

namespace ProDesk.Web.Hosting;

/// <summary>
/// A write that lost to another one at the same moment: a unique index both wanted, a row version both read, a
/// serialization failure or deadlock. Each feature retries or answers the races it expects; one that reaches the
/// exception handler is still the caller's to send again (409), never a 500 (probe round 8: parallel admin writes).
/// </summary>
public static class WriteConflicts
{
    public static bool IsUniqueViolation(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            // 23505 unique_violation; SQLite's SQLITE_CONSTRAINT_UNIQUE (2067) and _PRIMARYKEY (1555).
            if (e is Npgsql.PostgresException { SqlState: "23505" } or Microsoft.Data.Sqlite.SqliteException { SqliteExtendedErrorCode: 2067 or 1555 })
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsConflict(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            // 40001 serialization_failure, 40P01 deadlock_detected.
            if (e is DbUpdateConcurrencyException or Npgsql.PostgresException { SqlState: "40001" or "40P01" })
            {
                return true;
            }
        }

        return IsUniqueViolation(exception);
    }
}
