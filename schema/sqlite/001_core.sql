-- 001_core.sql (SQLite) -- core tables: a small key/value settings store.
-- schema_migrations itself is created by the migrator (lib/db/db.c).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
