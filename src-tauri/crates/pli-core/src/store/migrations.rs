//! Numbered migrations, applied in order inside one transaction each; `PRAGMA user_version`
//! records the last one applied. A migration is never edited once released: add a new one.

use sqlx::SqlitePool;

use super::StoreError;

/// The migrations, in order: (version, SQL).
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("sql/0001_initial.sql")),
    (2, include_str!("sql/0002_outbox_sending.sql")),
    (3, include_str!("sql/0003_read_receipts.sql")),
    (4, include_str!("sql/0004_reports.sql")),
    (5, include_str!("sql/0005_list_order.sql")),
    (6, include_str!("sql/0006_drafts.sql")),
    (7, include_str!("sql/0007_count_index.sql")),
    (8, include_str!("sql/0008_search_content_view.sql")),
    (9, include_str!("sql/0009_ascending_list_indexes.sql")),
    (10, include_str!("sql/0010_search_date_keys.sql")),
    (11, include_str!("sql/0011_folded_reports.sql")),
    (12, include_str!("sql/0012_server_drafts.sql")),
    (13, include_str!("sql/0013_missing_body_index.sql")),
];

/// The latest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// The schema version recorded in the database (0 for a new file).
pub async fn current_version(pool: &SqlitePool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(pool)
        .await?)
}

/// Applies every migration newer than the file's version; returns the resulting version.
pub async fn run(pool: &SqlitePool) -> Result<i64, StoreError> {
    run_to(pool, SCHEMA_VERSION).await
}

/// Applies the migrations newer than the file's version up to `target` (tests build caches
/// of an older schema with it).
pub(crate) async fn run_to(pool: &SqlitePool, target: i64) -> Result<i64, StoreError> {
    let found = current_version(pool).await?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS
        .iter()
        .filter(|(v, _)| *v > found && *v <= target)
    {
        let mut tx = pool.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        // PRAGMA takes no bound parameters; the version is a compile-time integer.
        sqlx::raw_sql(&format!("PRAGMA user_version = {version}"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, "cache schema migrated");
    }
    current_version(pool).await
}
