package dev.outpost.store;

import java.util.List;

/** The catalog's on-disk schema, as the migrations that build it ({@link SchemaMigrations}). */
final class CatalogSchema {
    private CatalogSchema() {}

    /** Migration i (0-based) brings the schema to version i + 1. Append only; never edit one. */
    static final List<String> MIGRATIONS = List.of("""
            CREATE TABLE dictionaries (
              id INTEGER PRIMARY KEY,
              stream TEXT NOT NULL,
              purpose TEXT NOT NULL,
              bytes BLOB NOT NULL,
              samples INTEGER NOT NULL,
              created_at_millis INTEGER NOT NULL
            );
            CREATE INDEX dictionaries_by_stream ON dictionaries (stream, purpose, created_at_millis);
            """, """
            CREATE TABLE streams (
              name TEXT PRIMARY KEY,
              priority TEXT NOT NULL,
              retention_seconds INTEGER NOT NULL,
              schema_json TEXT,
              source TEXT NOT NULL,
              updated_at_millis INTEGER NOT NULL
            );
            """, """
            CREATE TABLE quarantine (
              kind TEXT NOT NULL,
              location TEXT NOT NULL,
              file TEXT NOT NULL,
              bytes INTEGER NOT NULL,
              found_at_millis INTEGER NOT NULL,
              PRIMARY KEY (kind, location)
            );
            """, """
            CREATE TABLE sync_cursors (
              upstream TEXT NOT NULL,
              lane TEXT NOT NULL,
              ranges BLOB NOT NULL,
              updated_at_millis INTEGER NOT NULL,
              PRIMARY KEY (upstream, lane)
            );
            """, """
            CREATE TABLE retention_log (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              at_millis INTEGER NOT NULL,
              lane TEXT NOT NULL,
              cycle INTEGER NOT NULL,
              first_seq INTEGER NOT NULL,
              last_seq INTEGER NOT NULL,
              bytes INTEGER NOT NULL,
              events INTEGER NOT NULL,
              unsynced_events INTEGER NOT NULL,
              reason TEXT NOT NULL,
              streams_json TEXT NOT NULL
            );
            """, """
            CREATE TABLE remote_config (
              config_key TEXT PRIMARY KEY,
              raw_value TEXT NOT NULL,
              hlc INTEGER NOT NULL,
              origin TEXT NOT NULL,
              updated_at_millis INTEGER NOT NULL
            );
            """, """
            CREATE TABLE rules (
              name TEXT PRIMARY KEY,
              definition_json TEXT NOT NULL,
              source TEXT NOT NULL,
              updated_at_millis INTEGER NOT NULL
            );
            CREATE TABLE engine_checkpoints (
              name TEXT PRIMARY KEY,
              seq INTEGER NOT NULL,
              state BLOB NOT NULL,
              updated_at_millis INTEGER NOT NULL
            );
            """, """
            CREATE TABLE rollup_definitions (
              name TEXT PRIMARY KEY,
              definition_json TEXT NOT NULL,
              source TEXT NOT NULL,
              updated_at_millis INTEGER NOT NULL
            );
            """);
}
