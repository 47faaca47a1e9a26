//! A tiny embedded migration runner.
//!
//! `sqlx::migrate!` would do this, but it is a proc macro and compiling any
//! sqlx macro builds the SQLite driver a second time for the macro host. Our
//! needs are small: ordered scripts, each applied once, in a transaction.

use sqlx::sqlite::SqlitePool;

use super::db;
use crate::StoreError;

/// Every migration, in order. Versions only grow; a released script is
/// never edited, a change is a new script.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_meta.sql")),
];

/// The newest schema version this binary knows.
pub(super) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// Brings the schema up to date, refusing a database from a newer binary.
pub(super) async fn run(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
         version INTEGER PRIMARY KEY NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .execute(pool)
    .await
    .map_err(db("creating schema_migrations"))?;

    let current = current_version(pool).await?;
    if current > latest() {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known: latest(),
        });
    }
    for &(version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        // IMMEDIATE takes the write lock up front, so two processes starting
        // together serialize here instead of failing on a lock upgrade.
        let mut tx = pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("starting migration"))?;
        // Re-check under the lock: another process may have applied it.
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("reading schema_migrations"))?;
        if done.is_some() {
            continue;
        }
        let context = format!("applying migration {version}");
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(db(&context))?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
            .bind(version)
            .bind(super::now_secs())
            .execute(&mut *tx)
            .await
            .map_err(db(&context))?;
        tx.commit().await.map_err(db(&context))?;
    }
    Ok(())
}

/// The highest applied version, 0 for a new database.
pub(super) async fn current_version(pool: &SqlitePool) -> Result<i64, StoreError> {
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(pool)
        .await
        .map_err(db("reading schema_migrations"))?;
    Ok(v.unwrap_or(0))
}
