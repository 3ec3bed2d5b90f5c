//! The two engines' schemas stay one design: after all migrations, SQLite and PostgreSQL have the same
//! tables, the same columns with the same nullability, the same named indexes and the same foreign
//! keys. Only each engine's own search structures differ, and they are listed here by name.

mod common;

use std::collections::BTreeSet;

use common::{Engine, TestApp};
use townhall::db::{Exec, sql};

/// What exists only on SQLite: FTS5 tables and their shadow tables, with the triggers feeding them.
const SQLITE_ONLY_TABLE_PREFIXES: &[&str] = &["posts_fts", "ideas_fts", "users_fts"];
/// What exists only on PostgreSQL: the stored `tsvector` columns and their GIN indexes.
const POSTGRES_ONLY_COLUMNS: &[&str] = &["posts.search", "ideas.search", "users.search"];

#[derive(Debug, Default)]
struct Schema {
    tables: BTreeSet<String>,
    /// "table.column NOT NULL" or "table.column NULL".
    columns: BTreeSet<String>,
    /// "index ON table".
    indexes: BTreeSet<String>,
    /// "table.column -> other.column".
    foreign_keys: BTreeSet<String>,
}

async fn sqlite_schema(app: &TestApp) -> Schema {
    let mut db = app.db.clone();
    let mut schema = Schema::default();
    let tables: Vec<(String,)> = db
        .fetch_all(sql("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                        AND name <> '_sqlx_migrations' ORDER BY name"))
        .await
        .unwrap();
    for (table,) in tables {
        if SQLITE_ONLY_TABLE_PREFIXES.iter().any(|p| table.starts_with(p)) {
            continue;
        }
        let columns: Vec<(String, i64, i64)> = db
            .fetch_all(sql("SELECT name, \"notnull\", pk FROM pragma_table_info($1)").bind(table.clone()))
            .await
            .unwrap();
        for (column, not_null, pk) in columns {
            // SQLite lets an INTEGER PRIMARY KEY be declared without NOT NULL; it is never null.
            let null = if not_null == 1 || pk > 0 { "NOT NULL" } else { "NULL" };
            schema.columns.insert(format!("{table}.{column} {null}"));
        }
        let keys: Vec<(String, String, String)> = db
            .fetch_all(sql("SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list($1)").bind(table.clone()))
            .await
            .unwrap();
        for (from, other, to) in keys {
            schema.foreign_keys.insert(format!("{table}.{from} -> {other}.{to}"));
        }
        schema.tables.insert(table);
    }
    let indexes: Vec<(String, String)> = db
        .fetch_all(sql("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
        .await
        .unwrap();
    for (index, table) in indexes {
        if !SQLITE_ONLY_TABLE_PREFIXES.iter().any(|p| table.starts_with(p)) {
            schema.indexes.insert(format!("{index} ON {table}"));
        }
    }
    schema
}

async fn postgres_schema(app: &TestApp) -> Schema {
    let mut db = app.db.clone();
    let mut schema = Schema::default();
    let tables: Vec<(String,)> = db
        .fetch_all(sql("SELECT table_name::text FROM information_schema.tables
                        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'"))
        .await
        .unwrap();
    schema.tables = tables.into_iter().map(|(t,)| t).collect();
    let columns: Vec<(String, String, String)> = db
        .fetch_all(sql("SELECT table_name::text, column_name::text, is_nullable::text FROM information_schema.columns
                        WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'"))
        .await
        .unwrap();
    for (table, column, nullable) in columns {
        if POSTGRES_ONLY_COLUMNS.contains(&format!("{table}.{column}").as_str()) {
            continue;
        }
        let null = if nullable == "YES" { "NULL" } else { "NOT NULL" };
        schema.columns.insert(format!("{table}.{column} {null}"));
    }
    // Indexes made by hand; those behind PRIMARY KEY and UNIQUE constraints are SQLite's automatic
    // ones, which the SQLite side leaves out too.
    let indexes: Vec<(String, String)> = db
        .fetch_all(sql("SELECT i.indexname::text, i.tablename::text FROM pg_indexes i
                        WHERE i.schemaname = 'public' AND i.tablename <> '_sqlx_migrations'
                          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
                          AND i.indexdef NOT LIKE '%USING gin (search)%'"))
        .await
        .unwrap();
    schema.indexes = indexes.into_iter().map(|(i, t)| format!("{i} ON {t}")).collect();
    let keys: Vec<(String, String, String, String)> = db
        .fetch_all(sql("SELECT cl.relname::text, a.attname::text, ft.relname::text, fa.attname::text
                        FROM pg_constraint c
                        JOIN pg_class cl ON cl.oid = c.conrelid
                        JOIN pg_class ft ON ft.oid = c.confrelid
                        JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, fcol) ON TRUE
                        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
                        JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol
                        WHERE c.contype = 'f'"))
        .await
        .unwrap();
    schema.foreign_keys = keys.into_iter().map(|(t, c, ft, fc)| format!("{t}.{c} -> {ft}.{fc}")).collect();
    schema
}

fn differences(what: &str, sqlite: &BTreeSet<String>, postgres: &BTreeSet<String>) -> Vec<String> {
    let mut out: Vec<String> = sqlite.difference(postgres).map(|x| format!("{what} only on SQLite: {x}")).collect();
    out.extend(postgres.difference(sqlite).map(|x| format!("{what} only on PostgreSQL: {x}")));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_engines_migrate_to_the_same_schema() {
    let Some(postgres) = TestApp::spawn_postgres_only("both_engines_migrate_to_the_same_schema").await else {
        return;
    };
    let sqlite = TestApp::spawn(Engine::Sqlite).await;
    let (a, b) = (sqlite_schema(&sqlite).await, postgres_schema(&postgres).await);
    assert!(a.tables.len() > 30 && a.columns.len() > 150, "the SQLite schema was read: {a:?}");
    let mut diff = differences("table", &a.tables, &b.tables);
    diff.extend(differences("column", &a.columns, &b.columns));
    diff.extend(differences("index", &a.indexes, &b.indexes));
    diff.extend(differences("foreign key", &a.foreign_keys, &b.foreign_keys));
    assert!(diff.is_empty(), "the engines' schemas differ:\n{}", diff.join("\n"));
}
