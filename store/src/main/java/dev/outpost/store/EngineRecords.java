package dev.outpost.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The engine's records in the catalog: rule and rollup definitions (each set replaced whole, in one transaction: a set
 * is applied all or nothing, so after a crash the catalog holds the old set or the new one, never a mix) and the
 * checkpoints of log followers. Shares the catalog's connection and lock ({@link Catalog#engine()}).
 */
public final class EngineRecords {
    /**
     * An engine definition as stored: a rule or a rollup.
     *
     * @param definitionJson the definition, a JSON object
     * @param source {@code config} (declared in the YAML file), {@code api} or {@code hub}
     */
    public record DefinitionRow(String name, String definitionJson, String source) {}

    /**
     * A log follower's checkpoint: every event at or below {@code seq} is processed and {@code state} is what the
     * follower derived from them (opaque to the catalog).
     */
    public record Checkpoint(String name, long seq, byte[] state) {}

    private static final String RULES = "rules";
    private static final String ROLLUPS = "rollup_definitions";

    private final Catalog catalog;

    EngineRecords(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Replaces the whole rule set. */
    public void replaceRules(List<DefinitionRow> rows) {
        replace(RULES, rows);
    }

    /** The stored rules, by name. */
    public List<DefinitionRow> rules() {
        return definitions(RULES);
    }

    /** Replaces the whole set of rollup definitions. */
    public void replaceRollups(List<DefinitionRow> rows) {
        replace(ROLLUPS, rows);
    }

    /** The stored rollup definitions, by name. */
    public List<DefinitionRow> rollups() {
        return definitions(ROLLUPS);
    }

    private void replace(String table, List<DefinitionRow> rows) {
        catalog.transaction("store " + table, db -> {
            try (Statement st = db.createStatement();
                    PreparedStatement p = db.prepareStatement("INSERT INTO " + table
                            + " (name, definition_json, source, updated_at_millis) VALUES (?,?,?,?)")) {
                st.executeUpdate("DELETE FROM " + table);
                long now = System.currentTimeMillis();
                for (DefinitionRow r : rows) {
                    p.setString(1, r.name());
                    p.setString(2, r.definitionJson());
                    p.setString(3, r.source());
                    p.setLong(4, now);
                    p.addBatch();
                }
                p.executeBatch();
            }
            return null;
        });
    }

    private List<DefinitionRow> definitions(String table) {
        return catalog.read("read " + table, db -> {
            List<DefinitionRow> out = new ArrayList<>();
            try (Statement st = db.createStatement();
                    ResultSet rs =
                            st.executeQuery("SELECT name, definition_json, source FROM " + table + " ORDER BY name")) {
                while (rs.next()) {
                    out.add(new DefinitionRow(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
            return out;
        });
    }

    /** Stores a follower's checkpoint (replacing the previous one). */
    public void putCheckpoint(Checkpoint c) {
        catalog.transaction("store engine checkpoint", db -> {
            try (PreparedStatement p = db.prepareStatement("INSERT OR REPLACE INTO engine_checkpoints"
                    + " (name, seq, state, updated_at_millis) VALUES (?,?,?,?)")) {
                p.setString(1, c.name());
                p.setLong(2, c.seq());
                p.setBytes(3, c.state());
                p.setLong(4, System.currentTimeMillis());
                p.executeUpdate();
            }
            return null;
        });
    }

    /** A follower's last checkpoint, or null if it never stored one. */
    public Checkpoint checkpoint(String name) {
        return catalog.read("read engine checkpoint", db -> {
            try (PreparedStatement p =
                    db.prepareStatement("SELECT seq, state FROM engine_checkpoints WHERE name = ?")) {
                p.setString(1, name);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? new Checkpoint(name, rs.getLong(1), rs.getBytes(2)) : null;
                }
            }
        });
    }
}
