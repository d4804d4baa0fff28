package dev.outpost.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Versioned schema migrations of an SQLite file Outpost writes (the catalog, the rollups): a {@code schema_version}
 * table holds the versions applied; migration i (0-based) brings the schema to version i + 1. Migrations are append
 * only, never edited. All pending migrations run in one transaction: a crash leaves the old schema or the new one.
 */
public final class SchemaMigrations {
    private SchemaMigrations() {}

    /**
     * Applies the migrations {@code db} lacks.
     *
     * @param noun what the file is called in a message ("the catalog")
     * @param what the operation, for a {@link StoreException} ("open catalog")
     * @param newerAdvice what to do when the file was written by a newer Outpost
     * @return the version the file had (equal to {@code migrations.size()} when nothing was applied)
     * @throws StoreException if the file's schema is newer than {@code migrations}
     */
    public static int apply(
            Connection db, List<String> migrations, String noun, String what, Path file, String newerAdvice)
            throws SQLException {
        int known = migrations.size();
        try (Statement s = db.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
            int current = 0;
            try (ResultSet rs = s.executeQuery("SELECT max(version) FROM schema_version")) {
                if (rs.next()) {
                    current = rs.getInt(1);
                }
            }
            if (current > known) {
                throw new StoreException(
                        what,
                        file,
                        noun + " has schema version " + current + " but this Outpost knows only up to " + known
                                + ": it was written by a newer Outpost; " + newerAdvice,
                        null);
            }
            if (current < known) {
                migrate(db, s, migrations, current);
            }
            return current;
        }
    }

    private static void migrate(Connection db, Statement s, List<String> migrations, int from) throws SQLException {
        db.setAutoCommit(false);
        try {
            for (int v = from; v < migrations.size(); v++) {
                for (String stmt : migrations.get(v).split(";")) {
                    if (!stmt.isBlank()) {
                        s.execute(stmt);
                    }
                }
                s.execute("INSERT INTO schema_version (version) VALUES (" + (v + 1) + ")");
            }
            db.commit();
        } catch (SQLException e) {
            db.rollback();
            throw e;
        } finally {
            db.setAutoCommit(true);
        }
    }
}
